import type { EncodedRecord, PartitionStores } from '@exactly/core';
import type { EngineContext } from './context.js';

/** What joins a transaction besides the outputs and offsets: the owner calls it at its phases. */
export interface TransactionParticipant {
  /** Phase 1: the records it adds to the transaction. */
  prepare(): readonly EncodedRecord[];
  /** Phase 3: the commit is confirmed. */
  committed(): void;
  /** The transaction was aborted: what it prepared vanishes. */
  aborted(): void;
  /** The commit's outcome is unknown: what it holds may be stale; it is read back from Kafka before next use. */
  inDoubt(): void;
}

/**
 * The stores of the input partitions a task owns. A partition's stores are rebuilt from their changelogs
 * (read_committed, to the end) before its first record is handled; after that they are kept up to date by the
 * task's own commits, for as long as the task keeps the partition. They are forgotten, and rebuilt when next
 * needed, when the partition is revoked or a commit's outcome is unknown.
 */
export class PartitionState {
  private readonly partitions = new Map<number, PartitionStores>();

  constructor(private readonly ctx: EngineContext) {}

  /** False for a processor without stores: nothing to restore, nothing to add to transactions. */
  get enabled(): boolean {
    return this.ctx.pipeline.changelogTopics.length > 0;
  }

  /** `partition`'s stores, rebuilt from the changelogs first if they are not in hand. */
  async ready(partition: number): Promise<PartitionStores | undefined> {
    if (!this.enabled) return undefined;
    const known = this.partitions.get(partition);
    if (known) return known;
    const stores = await this.restore(partition);
    this.partitions.set(partition, stores);
    return stores;
  }

  /** Forgets `partition`'s stores (revoked, or possibly stale): the next ready() rebuilds them. */
  forget(partition: number): void {
    this.partitions.delete(partition);
  }

  /** Forgets every partition's stores but those in `kept`. */
  keepOnly(kept: ReadonlySet<number>): void {
    for (const partition of [...this.partitions.keys()]) if (!kept.has(partition)) this.forget(partition);
  }

  /** Drops every change not committed yet (a transaction that failed before it reached the owner's commit). */
  discardPending(): void {
    for (const stores of this.partitions.values()) stores.discardTransaction();
  }

  /** The transaction participant of `stores`, for the owner's phases. */
  participant(stores: PartitionStores): TransactionParticipant {
    return {
      prepare: () => stores.changelogRecords(),
      committed: () => stores.applyTransaction(),
      aborted: () => stores.discardTransaction(),
      inDoubt: () => {
        stores.discardTransaction();
        if (this.partitions.get(stores.partition) === stores) this.forget(stores.partition);
      },
    };
  }

  private async restore(partition: number): Promise<PartitionStores> {
    const { pipeline, admin, log, metrics } = this.ctx;
    const stores = pipeline.createStores(partition);
    const started = performance.now();
    let records = 0;
    for (const [name, changelog] of pipeline.storeChangelogs) {
      await admin.readToEnd(changelog, partition, null, (batch) => {
        stores.restore(
          name,
          batch.map((record) => ({ key: record.key ?? Buffer.alloc(0), value: record.value })),
        );
        records += batch.length;
        metrics.restoredRecords.inc({ store: name }, batch.length);
      });
    }
    const seconds = (performance.now() - started) / 1000;
    metrics.restoreSeconds.observe(seconds);
    log.info({ partition, records, keys: stores.sizes(), ms: Math.round(seconds * 1000) }, 'stores restored');
    return stores;
  }
}
