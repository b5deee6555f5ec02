import { backoffMs } from '../backoff.js';
import { ProcessorStoppedError } from '../errors.js';
import type { BatchControl, ConsumedBatch, TopicPartition } from '../port/client.js';
import { runPipeline } from './batch-work.js';
import type { EngineContext } from './context.js';
import { exchangeParticipant } from './exchange-side.js';
import { PartitionState, type TransactionParticipant } from './state.js';
import { TableSide } from './table-side.js';
import { TransactionOwner } from './transaction-owner.js';

/** The outcome of handling one batch, for the engine. */
export type TaskResult = 'ok' | 'fenced' | 'retry' | 'stopped';

/**
 * 'partition' fencing: one input partition, with a transactional producer of its own
 * (`<id>.<topic>.<partition>`, owned by a TransactionOwner) and its position. Every batch of records becomes
 * transactions that hold the outputs, the dead letters and the offset advance.
 *
 * Positions: `committed` is the group's offset as of the last read or commit; `position` is the next record to
 * process (beyond `committed` only across control records, which need no commit).
 */
export class PartitionTask {
  private readonly owner: TransactionOwner;
  private readonly partition: TopicPartition;
  /** The partition's stores: rebuilt from their changelogs whenever the position is read again. */
  private readonly state: PartitionState;
  /** The partition's claim in the database that table outputs write to, when the processor has tables. */
  private readonly tables: TableSide | undefined;
  /** The producer is open and `committed` was read after it fenced its predecessors. */
  private opened = false;
  private committed: bigint | null = null;
  private position: bigint | null = null;
  /** Set on each new assignment: re-read the committed offset before trusting `position`. */
  private stale = false;
  private closed = false;

  constructor(
    private readonly ctx: EngineContext,
    partition: TopicPartition,
  ) {
    this.partition = { topic: partition.topic, partition: partition.partition };
    this.owner = new TransactionOwner(ctx, `${ctx.processorId}.${partition.topic}.${partition.partition}`, 'partition');
    this.state = new PartitionState(ctx);
    this.tables = ctx.tables ? new TableSide(ctx, ctx.tables) : undefined;
  }

  get transactionalId(): string {
    return this.owner.transactionalId;
  }

  markStale(): void {
    this.stale = true;
  }

  /** The batch being handled: batches of one partition are handled one at a time, in the order they come. */
  private inHand: Promise<unknown> = Promise.resolve();

  /**
   * Handles a batch once the one before it is done. KafkaJS hands a partition's batches over one by one, except
   * across a consumer restart (after a broker failure), when a new batch can arrive while the old one commits.
   */
  handle(batch: ConsumedBatch, control: BatchControl): Promise<TaskResult> {
    const result = this.inHand.then(() => this.handleNow(batch, control));
    this.inHand = result.catch(() => {});
    return result;
  }

  /**
   * Opens now, before the first batch (which waits for it): fences, claims, resolves what a dead owner left. A
   * failure is tried again with the back-off until it opens (or a batch opens it, or the task closes).
   */
  openEarly(attempt = 0): void {
    this.inHand = this.inHand
      .then(() => (this.closed || (attempt > 0 && this.opened) ? undefined : this.open()))
      .catch((error: unknown) => {
        this.ctx.log.warn(
          { partition: this.partition.partition, error: String(error), attempt },
          'opening the partition at assignment failed; retrying',
        );
        setTimeout(() => this.openEarly(attempt + 1), backoffMs(attempt)).unref();
      });
  }

  private async handleNow(batch: ConsumedBatch, control: BatchControl): Promise<TaskResult> {
    try {
      if (!this.opened || !this.owner.isOpen) await this.open();
      else if (this.stale) await this.revalidate();
      return await this.process(batch, control);
    } catch (error) {
      this.state.discardPending();
      const rewindTo = this.position ?? (batch.records[0] ? BigInt(batch.records[0].offset) : null);
      if (rewindTo !== null) control.seek(rewindTo.toString());
      // With nothing committed yet the position was unknown; from now on it is where this batch began, so that
      // a fetch from past it is recognised (process()).
      this.position ??= rewindTo;
      const recovery = await this.owner.recover(error);
      if (recovery !== 'redo') this.opened = false; // a new producer first, then the committed offset again
      if (recovery === 'fenced' || recovery === 'stopped') return recovery;
      return 'retry';
    }
  }

  /**
   * Fences every earlier owner of this partition, then learns where they left off: the committed offset, and the
   * stores as the changelogs have them (their changes commit with the offsets, so the two agree). Order matters.
   * With tables, the database claim comes between: it resolves what earlier owners prepared (by Kafka's
   * committed offsets, settled by the fencing), and its offset is ahead where batches committed there alone.
   */
  private async open(): Promise<void> {
    await this.owner.open();
    const { partition } = this.partition;
    const inDatabase = (await this.tables?.claim([partition]))?.get(partition) ?? null;
    this.committed = later(await this.readCommitted(), inDatabase);
    this.state.forget(this.partition.partition);
    await this.state.ready(this.partition.partition);
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
    // Another owner in between may have committed in the database alone, which Kafka's offsets do not show.
    if (this.tables) return this.open();
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
    const { topic, partition } = this.partition;
    const offsets = await this.ctx.admin.committedOffsets(this.ctx.groupId, topic, [partition]);
    const offset = offsets.get(this.partition.partition);
    return offset === null || offset === undefined ? null : BigInt(offset);
  }

  private async process(batch: ConsumedBatch, control: BatchControl): Promise<TaskResult> {
    const position = this.position;
    if (position !== null && batch.fetchedFrom !== undefined && BigInt(batch.fetchedFrom) > position) {
      // A fetch made before a rewind, from past the position (KafkaJS can still deliver it after the seek):
      // its records would be committed over the ones before them, which were never committed. This is the one
      // path found that loses a whole range of one partition, as CI's 3-node chaos did (442 inputs, 254-695).
      this.ctx.log.warn(
        { partition: this.partition.partition, position: String(position), fetchedFrom: batch.fetchedFrom },
        'a batch fetched from past the position: dropped, fetching again from the position',
      );
      control.seek(position.toString());
      return 'ok';
    }
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
    for (let start = 0; start < records.length; ) {
      if (start > 0 && (await control.heartbeat()) === 'rebalancing') return 'ok';
      if (!control.isCurrent()) return 'ok';
      const chunk = records.slice(start, start + this.owner.recordLimit);
      start += chunk.length;
      const stores = await this.state.ready(this.partition.partition);
      const work = await runPipeline(this.ctx, chunk, this.owner.refused, stores);
      const last = work.handled[work.handled.length - 1];
      if (last) {
        // Past the batch's last record there may be control records: commit beyond them on the final chunk.
        const next =
          start >= records.length && !work.stoppedOn ? BigInt(batch.nextOffset) : BigInt(last.input.offset) + 1n;
        const offsets = [{ ...this.partition, offset: next.toString() }];
        const participants: TransactionParticipant[] = [];
        if (stores) participants.push(this.state.participant(stores));
        if (this.tables)
          participants.push(
            this.tables.participant(work.handled, offsets, (input, why) => this.owner.refuseInput(input, why)),
          );
        const exchange =
          this.ctx.amqp &&
          exchangeParticipant(this.ctx, this.ctx.amqp, work.handled, (input, why) =>
            this.owner.refuseInput(input, why),
          );
        if (exchange) participants.push(exchange);
        await this.owner.commit(work, offsets, participants);
        this.committed = next;
        this.position = next;
        control.advance(next.toString());
      }
      if (work.stoppedOn) {
        this.ctx.fail(new ProcessorStoppedError(work.stoppedOn));
        return 'stopped';
      }
    }
    this.ctx.metrics.lag.set(
      { partition: this.partition.partition },
      Number(BigInt(batch.highWatermark) - (this.position ?? 0n)),
    );
    return 'ok';
  }

  async close(): Promise<void> {
    this.closed = true;
    this.opened = false;
    this.tables?.close();
    await this.owner.close();
  }
}

/** The later of two next offsets (null: none). */
function later(a: bigint | null, b: bigint | null): bigint | null {
  if (a === null) return b;
  if (b === null) return a;
  return a > b ? a : b;
}
