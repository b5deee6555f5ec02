import { setTimeout as delay } from 'node:timers/promises';
import { ProcessorStoppedError } from '../errors.js';
import type { ConsumedBatch, PartitionOffset, PollControl, TransactionalProducerPort } from '../port/client.js';
import { ClientError } from '../port/errors.js';
import { type BatchWork, recordCommitted, runPipeline } from './batch-work.js';
import type { EngineContext } from './context.js';
import { openProducer, runTransaction } from './transaction.js';

/** Fenced this many times within FENCING_WINDOW_MS: another live process uses this instance's id. */
const MAX_FENCINGS = 3;
const FENCING_WINDOW_MS = 60_000;
/** The group coordinator refused an offset commit from a generation that has ended. */
const MEMBERSHIP_ERRORS = new Set([
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'REBALANCE_IN_PROGRESS',
  'FENCED_INSTANCE_ID',
]);

/**
 * KIP-447 mode: one transactional producer for the whole instance (`<id>.<instance>`), one transaction per
 * poll across all its partitions. Zombies are fenced by the group coordinator (offsets commit with the
 * generation they were fetched under), and a new owner reads offsets with require_stable, so it waits for a
 * previous owner's pending transaction instead of reading past it. The stable transactional.id lets a
 * restarted instance abort its predecessor's open transaction at once rather than after its timeout.
 */
export class InstanceTask {
  private producer: TransactionalProducerPort | undefined;
  private failures = 0;
  private fencings: number[] = [];

  constructor(private readonly ctx: EngineContext) {}

  get transactionalId(): string {
    return `${this.ctx.processorId}.${this.ctx.instanceId}`;
  }

  /** InitProducerId: fences an earlier incarnation of this instance and ends its open transaction. */
  async open(): Promise<void> {
    await this.discardProducer();
    this.producer = await openProducer(this.ctx, this.transactionalId);
    this.ctx.log.info({ transactionalId: this.transactionalId }, 'instance producer ready');
  }

  async handle(batches: readonly ConsumedBatch[], control: PollControl): Promise<void> {
    try {
      if (!this.producer) await this.open();
      await this.process(batches, control);
      this.failures = 0;
    } catch (error) {
      await this.recover(error, control);
    }
  }

  private async process(batches: readonly ConsumedBatch[], control: PollControl): Promise<void> {
    const work: BatchWork & { stoppedOn: BatchWork['stoppedOn'] } = {
      outputs: [],
      processed: [],
      deadLetters: [],
      stoppedOn: undefined,
    };
    const offsets: PartitionOffset[] = [];
    for (const batch of batches) {
      const done = await runPipeline(this.ctx, batch.records);
      work.outputs.push(...done.outputs);
      work.processed.push(...done.processed);
      work.deadLetters.push(...done.deadLetters);
      const last = done.processed[done.processed.length - 1];
      // Past the batch's last record there may be control records: commit beyond them when it all went through.
      const next = done.stoppedOn ? (last ? BigInt(last.offset) + 1n : undefined) : BigInt(batch.nextOffset);
      if (next !== undefined) offsets.push({ ...batch, offset: next.toString() });
      if (done.stoppedOn) {
        work.stoppedOn = done.stoppedOn;
        break;
      }
    }
    if (!control.isCurrent()) return; // a rebalance or rewind came first: the commit would be refused
    if (offsets.length > 0) await this.commit(work, offsets);
    if (work.stoppedOn) this.ctx.fail(new ProcessorStoppedError(work.stoppedOn));
    for (const batch of batches) {
      const offset = offsets.find((o) => o.partition === batch.partition)?.offset ?? batch.nextOffset;
      this.ctx.metrics.lag.set({ partition: batch.partition }, Number(BigInt(batch.highWatermark) - BigInt(offset)));
    }
  }

  private async commit(work: BatchWork, offsets: readonly PartitionOffset[]): Promise<void> {
    const producer = this.producer;
    if (!producer) throw new ClientError('abortable', 'NO_PRODUCER', 'the instance has no producer');
    const started = performance.now();
    await runTransaction(producer, this.ctx.groupId, work, offsets, () => this.discardProducer());
    recordCommitted(this.ctx, work, started);
  }

  private async recover(error: unknown, control: PollControl): Promise<void> {
    const clientError = error instanceof ClientError ? error : undefined;
    const kind = clientError?.kind ?? 'abortable';
    this.ctx.metrics.transactionsAborted.inc({ kind });
    control.rewind();
    if (kind === 'fatal') {
      this.ctx.fail(clientError ?? (error instanceof Error ? error : new Error(String(error))));
      return;
    }
    if (kind === 'fenced') {
      // A transaction that outlived its timeout is fenced too (the coordinator bumps the epoch); so is a second
      // live process with this instance id. Re-initialise, but not forever: that would be two processes fencing
      // each other in turn.
      const now = Date.now();
      this.fencings = [...this.fencings.filter((at) => now - at < FENCING_WINDOW_MS), now];
      if (this.fencings.length >= MAX_FENCINGS) {
        this.ctx.fail(
          new Error(
            `the producer '${this.transactionalId}' was fenced ${MAX_FENCINGS} times in a minute: another live process runs with instance id '${this.ctx.instanceId}'. Give every instance its own --instance-id.`,
            { cause: clientError },
          ),
        );
        return;
      }
      await this.discardProducer();
    } else if (clientError && MEMBERSHIP_ERRORS.has(clientError.code)) {
      // The group moved on (rebalance): the aborted work is redone by whoever owns the partitions now.
      this.ctx.log.info({ code: clientError.code }, 'offset commit refused after a rebalance; rewinding');
      return;
    } else if (kind === 'abortable') {
      await this.discardProducer(); // its state (sequence numbers, transaction) is not to be trusted
    }
    this.failures += 1;
    const backoffMs = Math.min(5000, 100 * 2 ** Math.min(this.failures - 1, 6));
    this.ctx.log.warn(
      { kind, code: clientError?.code, error: String((error as Error)?.message ?? error), backoffMs },
      'transaction failed; rewinding to the committed offsets',
    );
    await delay(backoffMs);
  }

  private async discardProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    if (producer) await producer.close();
  }

  close(): Promise<void> {
    return this.discardProducer();
  }
}
