import { setTimeout as delay } from 'node:timers/promises';
import { ProcessorStoppedError } from '../errors.js';
import type { BatchControl, ConsumedBatch, TopicPartition, TransactionalProducerPort } from '../port/client.js';
import { ClientError } from '../port/errors.js';
import { type BatchWork, recordCommitted, runPipeline } from './batch-work.js';
import type { EngineContext } from './context.js';
import { openProducer, runTransaction } from './transaction.js';

/** The outcome of handling one batch, for the engine. */
export type TaskResult = 'ok' | 'fenced' | 'retry' | 'stopped';

/**
 * One input partition: its own transactional producer (`<id>.<topic>.<partition>`) and its position.
 * Every batch of records becomes transactions that hold the outputs, the dead letters and the offset advance.
 *
 * Positions: `committed` is the group's offset as of the last read or commit; `position` is the next record to
 * process (beyond `committed` only across control records, which need no commit).
 */
export class PartitionTask {
  private producer: TransactionalProducerPort | undefined;
  private opened = false;
  private committed: bigint | null = null;
  private position: bigint | null = null;
  private failures = 0;
  /** Set on each new assignment: re-read the committed offset before trusting `position`. */
  private stale = false;

  constructor(
    private readonly ctx: EngineContext,
    readonly partition: TopicPartition,
  ) {}

  get transactionalId(): string {
    return `${this.ctx.processorId}.${this.partition.topic}.${this.partition.partition}`;
  }

  markStale(): void {
    this.stale = true;
  }

  async handle(batch: ConsumedBatch, control: BatchControl): Promise<TaskResult> {
    try {
      if (!this.opened) await this.open();
      else if (this.stale) await this.revalidate();
      const result = await this.process(batch, control);
      this.failures = 0;
      return result;
    } catch (error) {
      return this.recover(error, batch, control);
    }
  }

  /** Fences every earlier owner of this partition, then learns where they left off. Order matters. */
  private async open(): Promise<void> {
    await this.discardProducer();
    this.producer = await openProducer(this.ctx, this.transactionalId);
    this.committed = await this.readCommitted();
    this.position = this.committed;
    this.opened = true;
    this.stale = false;
    this.ctx.log.info(
      { partition: this.partition.partition, committed: String(this.committed) },
      'partition task opened',
    );
  }

  /** After a rebalance that kept this partition: if someone else committed meanwhile, start over. */
  private async revalidate(): Promise<void> {
    const committed = await this.readCommitted();
    this.stale = false;
    if (committed !== this.committed) {
      this.ctx.log.info(
        { partition: this.partition.partition, expected: String(this.committed), found: String(committed) },
        'partition was committed elsewhere while away; reopening',
      );
      await this.open();
    }
  }

  private async readCommitted(): Promise<bigint | null> {
    const offsets = await this.ctx.admin.committedOffsets(this.ctx.groupId, this.partition.topic);
    const offset = offsets.get(this.partition.partition);
    return offset === null || offset === undefined ? null : BigInt(offset);
  }

  private async process(batch: ConsumedBatch, control: BatchControl): Promise<TaskResult> {
    const position = this.position;
    const records = position === null ? batch.records : batch.records.filter((r) => BigInt(r.offset) >= position);
    if (records.length === 0) {
      // Already-committed records fetched again (after a rebalance), or only transaction markers.
      if (position !== null && BigInt(batch.nextOffset) <= position) control.seek(position.toString());
      else {
        this.position = BigInt(batch.nextOffset);
        control.advance(batch.nextOffset);
      }
      return 'ok';
    }
    for (let start = 0; start < records.length; start += this.ctx.maxBatchRecords) {
      if (start > 0 && (await control.heartbeat()) === 'rebalancing') return 'ok';
      if (!control.isCurrent()) return 'ok';
      const chunk = records.slice(start, start + this.ctx.maxBatchRecords);
      const work = await runPipeline(this.ctx, chunk);
      const { processed, stoppedOn } = work;
      const last = processed[processed.length - 1];
      if (last) {
        const isLastChunk = start + this.ctx.maxBatchRecords >= records.length && !stoppedOn;
        // Past the batch's last record there may be control records: commit beyond them on the final chunk.
        const next = isLastChunk ? BigInt(batch.nextOffset) : BigInt(last.offset) + 1n;
        await this.commit(work, next);
        control.advance(next.toString());
      }
      if (stoppedOn) {
        this.ctx.fail(new ProcessorStoppedError(stoppedOn));
        return 'stopped';
      }
    }
    this.ctx.metrics.lag.set(
      { partition: this.partition.partition },
      Number(BigInt(batch.highWatermark) - (this.position ?? 0n)),
    );
    return 'ok';
  }

  private async commit(work: BatchWork, next: bigint): Promise<void> {
    const producer = this.producer;
    if (!producer) throw new ClientError('abortable', 'NO_PRODUCER', 'the partition task has no producer');
    const started = performance.now();
    const offsets = [{ ...this.partition, offset: next.toString() }];
    // A lost producer is replaced on the next batch: open() inits a new one, then re-reads the committed offset.
    await runTransaction(producer, this.ctx.groupId, work, offsets, () => {
      this.opened = false;
    });
    this.committed = next;
    this.position = next;
    recordCommitted(this.ctx, work, started);
  }

  private async recover(error: unknown, batch: ConsumedBatch, control: BatchControl): Promise<TaskResult> {
    const clientError = error instanceof ClientError ? error : undefined;
    const kind = clientError?.kind ?? 'abortable';
    this.ctx.metrics.transactionsAborted.inc({ kind });
    const rewindTo = this.position ?? (batch.records[0] ? BigInt(batch.records[0].offset) : null);
    if (rewindTo !== null) control.seek(rewindTo.toString());
    if (kind === 'fatal') {
      this.ctx.fail(clientError ?? (error instanceof Error ? error : new Error(String(error))));
      return 'stopped';
    }
    if (kind === 'fenced') {
      this.ctx.log.warn(
        { partition: this.partition.partition, error: clientError?.message },
        'producer fenced: another instance owns this partition now',
      );
      await this.close();
      return 'fenced';
    }
    this.failures += 1;
    this.opened = kind === 'retriable' && this.opened; // anything but a passing error: new producer, fresh offsets
    const backoffMs = Math.min(5000, 100 * 2 ** Math.min(this.failures - 1, 6));
    this.ctx.log.warn(
      {
        partition: this.partition.partition,
        kind,
        code: clientError?.code,
        error: String((error as Error)?.message ?? error),
        backoffMs,
      },
      'transaction failed; rewinding to the committed offset',
    );
    await delay(backoffMs);
    return 'retry';
  }

  private async discardProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    if (producer) await producer.close();
  }

  async close(): Promise<void> {
    this.opened = false;
    await this.discardProducer();
  }
}
