import type { PartitionStores } from '@exactly/core';
import { backoffMs } from '../backoff.js';
import { ProcessorStoppedError } from '../errors.js';
import type { ConsumedBatch, PartitionOffset, PollControl } from '../port/client.js';
import { type HandledRecord, runPipeline } from './batch-work.js';
import type { EngineContext } from './context.js';
import { exchangeParticipant } from './exchange-side.js';
import { PartitionState, type TransactionParticipant } from './state.js';
import { TableSide } from './table-side.js';
import { TransactionOwner } from './transaction-owner.js';

/**
 * 'instance' fencing (KIP-447): one transactional producer for the whole instance (`<id>.<instance>`, owned by
 * a TransactionOwner), transactions across all its partitions: one per poll, or several when a poll holds more
 * records than a transaction should. Zombies are fenced by the group coordinator (offsets commit with the
 * generation they were fetched under), and a new owner reads offsets with require_stable, so it waits for a
 * previous owner's pending transaction instead of reading past it. The stable transactional.id lets a
 * restarted instance abort its predecessor's open transaction at once rather than after its timeout.
 */
export class InstanceTask {
  private readonly owner: TransactionOwner;
  /** The owned partitions' stores, each rebuilt from its changelogs before its first record after a rebalance. */
  private readonly state: PartitionState;
  /** The claims in the database that table outputs write to, when the processor has tables. */
  private readonly tables: TableSide | undefined;

  constructor(private readonly ctx: EngineContext) {
    this.owner = new TransactionOwner(ctx, `${ctx.processorId}.${ctx.instanceId}`, 'instance');
    this.state = new PartitionState(ctx);
    this.tables = ctx.tables ? new TableSide(ctx, ctx.tables) : undefined;
  }

  /**
   * A rebalance: every partition's stores are read again from their changelogs when next needed, as another
   * member may have owned a partition in between (a generation this instance missed).
   */
  assigned(partitions: readonly number[]): void {
    this.state.keepOnly(new Set());
    const tables = this.tables;
    if (!tables) return;
    tables.forget();
    // Claimed now, not at their first records: what a dead owner left prepared holds its rows locked until
    // resolved, and a partition with no new records would keep it so. The first poll waits for the first try;
    // a failed one is tried again in the background (for the partitions no poll has claimed meanwhile) until
    // the next assignment.
    const assignment = ++this.assignments;
    const attempt = (n: number): Promise<void> => {
      const unclaimed = partitions.filter((p) => !tables.isClaimed(p));
      if (unclaimed.length === 0 || assignment !== this.assignments || this.closed) return Promise.resolve();
      return tables.claim(unclaimed).then(
        () => undefined,
        (error: unknown) => {
          this.ctx.log.warn({ error: String(error), attempt: n }, 'claiming the assigned partitions failed; retrying');
          setTimeout(() => void attempt(n + 1), backoffMs(n)).unref();
        },
      );
    };
    this.claiming = attempt(0);
  }

  /** The first try to claim the partitions assigned last (tables only): settled before a poll is handled. */
  private claiming: Promise<void> = Promise.resolve();
  private assignments = 0;
  private closed = false;

  get transactionalId(): string {
    return this.owner.transactionalId;
  }

  /** InitProducerId: fences an earlier incarnation of this instance and settles its open transaction. */
  async open(): Promise<void> {
    await this.owner.open();
    this.ctx.log.info({ transactionalId: this.transactionalId, ...this.owner.identity() }, 'instance producer ready');
  }

  async handle(batches: readonly ConsumedBatch[], control: PollControl): Promise<void> {
    try {
      if (!this.owner.isOpen) await this.open();
      await this.process(batches, control);
    } catch (error) {
      this.state.discardPending();
      const recovery = await this.owner.recover(error);
      // A transaction the old producer left open holds the group's stable offsets, which the rewind reads:
      // the new producer's InitProducerId ends it now, not its timeout. (If this fails, the next poll retries.)
      if (recovery === 'reopen') await this.open().catch(() => {});
      // The stream restarts from the group's stable offsets: nothing of this poll counts unless committed.
      control.rewind();
    }
  }

  private async process(batches: readonly ConsumedBatch[], control: PollControl): Promise<void> {
    let handled: HandledRecord[] = [];
    const offsets = new Map<number, PartitionOffset>();
    /** The stores the records in hand have changed: they join the transaction. */
    const touched = new Set<PartitionStores>();
    /** Commits what is in hand; false when the poll became obsolete (the commit would be refused). */
    const flush = async (): Promise<boolean> => {
      const participants: TransactionParticipant[] = [...touched].map((stores) => this.state.participant(stores));
      if (this.tables)
        participants.push(
          this.tables.participant(handled, [...offsets.values()], (input, why) => this.owner.refuseInput(input, why)),
        );
      const exchange =
        this.ctx.amqp &&
        exchangeParticipant(this.ctx, this.ctx.amqp, handled, (input, why) => this.owner.refuseInput(input, why));
      if (exchange) participants.push(exchange);
      touched.clear();
      if (!control.isCurrent()) {
        for (const participant of participants) participant.aborted();
        return false;
      }
      if (offsets.size > 0)
        await this.owner.commit({ handled, stoppedOn: undefined }, [...offsets.values()], participants);
      handled = [];
      offsets.clear();
      return true;
    };
    await this.claimTables(batches);
    for (const batch of batches) {
      const stores = await this.state.ready(batch.partition);
      if (stores) touched.add(stores);
      const records = this.notCommitted(batch);
      for (let start = 0; start < records.length; ) {
        const room = Math.max(1, this.owner.recordLimit - handled.length);
        const slice = records.slice(start, start + room);
        start += slice.length;
        if (stores) touched.add(stores);
        const done = await runPipeline(this.ctx, slice, this.owner.refused, stores);
        for (const one of done.handled) handled.push(one);
        const last = done.handled[done.handled.length - 1];
        // Past the batch's last record there may be control records: commit beyond them when it all went through.
        const whole = start >= records.length && !done.stoppedOn;
        const next = whole ? batch.nextOffset : last ? (BigInt(last.input.offset) + 1n).toString() : undefined;
        if (next !== undefined) {
          offsets.set(batch.partition, {
            topic: batch.topic,
            partition: batch.partition,
            offset: next,
            membership: batch.membership,
          });
        }
        if (done.stoppedOn) {
          if (await flush()) this.ctx.fail(new ProcessorStoppedError(done.stoppedOn));
          return;
        }
        if (handled.length >= this.owner.recordLimit && !(await flush())) return;
      }
    }
    if (!(await flush())) return;
    for (const batch of batches) {
      this.ctx.metrics.lag.set(
        { partition: batch.partition },
        Number(BigInt(batch.highWatermark) - BigInt(batch.nextOffset)),
      );
    }
  }

  /**
   * With tables, partitions new to this instance are claimed in the database first (resolving what their earlier
   * owners prepared); the consumer starts from Kafka's offsets, behind the database's where batches committed there.
   */
  private async claimTables(batches: readonly ConsumedBatch[]): Promise<void> {
    const tables = this.tables;
    if (!tables) return;
    await this.claiming;
    const unclaimed = batches.map((b) => b.partition).filter((p) => !tables.isClaimed(p));
    if (unclaimed.length > 0) await tables.claim(unclaimed);
  }

  /** The batch's records past what the database has committed already. */
  private notCommitted(batch: ConsumedBatch): ConsumedBatch['records'] {
    const from = this.tables?.position(batch.partition) ?? null;
    return from === null ? batch.records : batch.records.filter((r) => BigInt(r.offset) >= from);
  }

  close(): Promise<void> {
    this.closed = true;
    this.tables?.close();
    return this.owner.close();
  }
}
