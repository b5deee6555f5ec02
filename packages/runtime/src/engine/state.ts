import { setTimeout as delay } from 'node:timers/promises';
import type { BoundStore, CommittedState, EncodedRecord, PartitionStores } from '@exactly/core';
import { DELETE_RETENTION_MS } from '../adapters/topic-settings.js';
import { backoffMs } from '../backoff.js';
import { type OffsetRange, type SentEnds, sentKey } from '../port/client.js';
import type { EngineContext } from './context.js';
import type { LmdbState } from './local-state.js';

/**
 * What joins a transaction besides the outputs and offsets: the owner calls it at its phases (see
 * TransactionOwner). The stores add changelog records to Kafka's transaction; a database has a transaction of its
 * own, prepared before Kafka's commit and committed after it (two-phase commit, Kafka's commit the decision).
 */
export interface TransactionParticipant {
  /**
   * Phase 1, before anything is sent: settles what earlier transactions left (a database's prepared transactions
   * whose outcome is not applied yet), so that no Kafka commit passes one.
   */
  settle?(): Promise<void>;
  /** Phase 1: the records it adds to Kafka's transaction. */
  records(): readonly EncodedRecord[];
  /** Whether it has its own transaction to commit with this one (a database's rows). */
  hasOwnWork?(): boolean;
  /** Phase 1, last: its own transaction made durable and ready to commit (PREPARE TRANSACTION). */
  prepare?(): Promise<void>;
  /**
   * The fast path: a transaction with nothing for Kafka commits here alone, with the offsets (a database that
   * keeps them). prepareAlone() is its phase 1 (the rows written), commitAlone() its phase 2 (the offsets and
   * COMMIT). Only one participant may offer it.
   */
  prepareAlone?(): Promise<void>;
  commitAlone?(): Promise<void>;
  /** Phase 3: the commit is confirmed; `landed` says where the records it added were written. */
  committed(landed: SentEnds): void | Promise<void>;
  /** The transaction was aborted: what it prepared vanishes. */
  aborted(): void | Promise<void>;
  /** The commit's outcome is unknown: what it holds may be stale; it is read back before next use. */
  inDoubt(): void;
}

/** How often a restore that waits for an open transaction says so again. */
const RESTORE_WAIT_WARN_MS = 30_000;

/** A changelog keeps a delete this long by default (the broker's `delete.retention.ms`). */
const DEFAULT_DELETE_RETENTION_MS = 24 * 60 * 60 * 1000;

/** A partition's stores, and their local copies when the runtime keeps them in a state directory. */
interface HeldStores {
  readonly stores: PartitionStores;
  readonly local: ReadonlyMap<string, LmdbState>;
}

/**
 * The stores of the input partitions a task owns. A partition's stores are rebuilt from their changelogs
 * (read_committed, to the end) before its first record is handled; after that they are kept up to date by the
 * task's own commits, for as long as the task keeps the partition. They are forgotten, and rebuilt when next
 * needed, when the partition is revoked or a commit's outcome is unknown.
 *
 * With a state directory, the committed state lives in a local copy that outlives the process, with a
 * checkpoint: the changelog offset before which it holds every committed change. A rebuild then reads only the
 * changelog's tail after the checkpoint. The checkpoint moves to where a confirmed commit's changelog records
 * landed (nothing else writes a partition's changelog while this task's commits succeed: a new owner fences
 * them first). It is not used when older than the changelog keeps deletes (a delete compacted away would be
 * missed), nor when the changelog no longer holds it (recreated, truncated): then the copy is rebuilt whole.
 */
export class PartitionState {
  private readonly partitions = new Map<number, HeldStores>();
  private deleteRetentionMs: Map<string, number> | undefined;

  constructor(private readonly ctx: EngineContext) {}

  /** False for a processor without stores: nothing to restore, nothing to add to transactions. */
  get enabled(): boolean {
    return this.ctx.pipeline.changelogTopics.length > 0;
  }

  /** `partition`'s stores, rebuilt from the changelogs first if they are not in hand. */
  async ready(partition: number): Promise<PartitionStores | undefined> {
    if (!this.enabled) return undefined;
    const known = this.partitions.get(partition);
    if (known) return known.stores;
    const held = await this.restore(partition);
    this.partitions.set(partition, held);
    return held.stores;
  }

  /** Forgets `partition`'s stores (revoked, or possibly stale): the next ready() rebuilds them. */
  forget(partition: number): void {
    const held = this.partitions.get(partition);
    if (!held) return;
    for (const copy of held.local.values()) copy.retire();
    this.partitions.delete(partition);
  }

  /** Forgets every partition's stores but those in `kept`. */
  keepOnly(kept: ReadonlySet<number>): void {
    for (const partition of [...this.partitions.keys()]) if (!kept.has(partition)) this.forget(partition);
  }

  /** Drops every change not committed yet (a transaction that failed before it reached the owner's commit). */
  discardPending(): void {
    for (const { stores } of this.partitions.values()) stores.discardTransaction();
  }

  /** The transaction participant of `stores`, for the owner's phases. */
  participant(stores: PartitionStores): TransactionParticipant {
    return {
      records: () => stores.changelogRecords(),
      committed: (landed) => {
        const apply = () => {
          stores.applyTransaction();
          this.checkpoint(stores, landed);
        };
        // With local copies: the changes and the checkpoint that covers them, in one LMDB transaction.
        if (this.ctx.localState) this.ctx.localState.atomically(apply);
        else apply();
      },
      aborted: () => stores.discardTransaction(),
      inDoubt: () => {
        stores.discardTransaction();
        if (this.partitions.get(stores.partition)?.stores === stores) this.forget(stores.partition);
      },
    };
  }

  /** After a confirmed commit applied: each local copy holds every change before where its records landed. */
  private checkpoint(stores: PartitionStores, landed: SentEnds): void {
    const held = this.partitions.get(stores.partition);
    if (held?.stores !== stores) return;
    for (const [name, changelog] of this.ctx.pipeline.storeChangelogs) {
      const end = landed.get(sentKey(changelog, stores.partition));
      if (end !== undefined) held.local.get(name)?.writeCheckpoint(end.toString());
    }
  }

  private async restore(partition: number): Promise<HeldStores> {
    const { pipeline, admin, log, metrics, localState } = this.ctx;
    const local = new Map<string, LmdbState>();
    const committedFor = (bound: BoundStore): CommittedState => {
      if (!localState) throw new Error('unreachable: no state directory');
      const copy = localState.committed(bound.name, partition);
      local.set(bound.name, copy);
      return copy;
    };
    const stores = pipeline.createStores(partition, localState ? committedFor : undefined);
    const started = performance.now();
    let records = 0;
    const fromCheckpoint: Record<string, string> = {};
    for (const [name, changelog] of pipeline.storeChangelogs) {
      const range = await settledRange(this.ctx, changelog, partition);
      const copy = local.get(name);
      const from = copy ? await this.usableCheckpoint(copy, changelog, range) : null;
      if (from === null) {
        copy?.removeCheckpoint(); // a copy being rebuilt has none until it is whole
        stores.clear(name);
      } else fromCheckpoint[name] = from;
      const end = await admin.readToEnd(changelog, partition, from, (batch) => {
        stores.restore(
          name,
          batch.map((record) => ({ key: record.key ?? Buffer.alloc(0), value: record.value })),
        );
        records += batch.length;
        metrics.restoredRecords.inc({ store: name }, batch.length);
      });
      copy?.writeCheckpoint(end);
    }
    const seconds = (performance.now() - started) / 1000;
    metrics.restoreSeconds.observe(seconds);
    log.info(
      { partition, records, fromCheckpoint, keys: stores.sizes(), ms: Math.round(seconds * 1000) },
      'stores restored',
    );
    return { stores, local };
  }

  /** Where to read `copy`'s changelog from: its checkpoint, or null (rebuild it whole). */
  private async usableCheckpoint(copy: LmdbState, changelog: string, range: OffsetRange): Promise<string | null> {
    const checkpoint = copy.checkpoint();
    if (!checkpoint) return null;
    const retention = (await this.retentionOf(changelog)) ?? DEFAULT_DELETE_RETENTION_MS;
    if (Date.now() - checkpoint.at >= retention) return null;
    const offset = BigInt(checkpoint.offset);
    if (offset < BigInt(range.start) || offset > BigInt(range.stableEnd)) return null;
    return checkpoint.offset;
  }

  private async retentionOf(changelog: string): Promise<number | undefined> {
    this.deleteRetentionMs ??= await this.ctx.admin.topicSettings(
      this.ctx.pipeline.changelogTopics,
      DELETE_RETENTION_MS,
    );
    return this.deleteRetentionMs.get(changelog);
  }
}

/**
 * `changelog`/`partition`'s offsets once no transaction is open in it. Only the partition's owner writes it,
 * and this one has not begun: an open transaction is a previous owner's (a zombie's, in 'instance' fencing,
 * where its transactional.id is not this one's), and committed changes may lie past it (this owner's own,
 * from before a rebalance). Reading only to the stable offset would miss them; the broker ends it within
 * its timeout.
 */
export async function settledRange(ctx: EngineContext, changelog: string, partition: number): Promise<OffsetRange> {
  const started = Date.now();
  let warned = 0;
  for (let attempt = 1; ; attempt++) {
    const range = await ctx.admin.offsetRange(changelog, partition);
    if (range.stableEnd === range.end) return range;
    if (Date.now() - warned >= RESTORE_WAIT_WARN_MS) {
      warned = Date.now();
      ctx.log.warn(
        { changelog, partition, stableEnd: range.stableEnd, end: range.end, waitedMs: warned - started },
        "waiting for a previous owner's open transaction in the changelog to end before restoring",
      );
    }
    await delay(backoffMs(attempt));
  }
}
