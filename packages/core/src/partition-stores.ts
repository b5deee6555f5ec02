import type { EncodedRecord } from './records.js';
import type { BoundSerde } from './serde.js';
import type { KeyValueStore } from './store.js';

/** A store's serdes, bound to its changelog topic. */
export interface BoundStore {
  readonly name: string;
  readonly changelog: string;
  readonly key: BoundSerde<unknown>;
  readonly value: BoundSerde<unknown>;
}

/** A change of one key: its new bytes, or null for a delete. Keys are the encoded key's bytes, as latin1. */
type Changes = Map<string, Buffer | null>;

/**
 * Where a store's committed state lives: in memory (the default), or in a local database that survives a
 * restart (the runtime's `stateDir`). Keys are the encoded key's bytes, as latin1.
 */
export interface CommittedState {
  get(key: string): Buffer | undefined;
  entries(): Iterable<[string, Buffer]>;
  /** Applies changes that are committed (a confirmed transaction, or records read back from the changelog). */
  apply(changes: ReadonlyMap<string, Buffer | null>): void;
  readonly size: number;
  clear(): void;
  /** The longest encoded key it can keep, if it has a limit (LMDB's): a longer one makes the record fail. */
  readonly maxKeyBytes?: number;
}

/** The committed state in a Map: lost with the process, rebuilt from the changelog. */
export class MemoryState implements CommittedState {
  private readonly map = new Map<string, Buffer>();

  get(key: string): Buffer | undefined {
    return this.map.get(key);
  }

  entries(): Iterable<[string, Buffer]> {
    return this.map.entries();
  }

  apply(changes: ReadonlyMap<string, Buffer | null>): void {
    for (const [key, bytes] of changes) {
      if (bytes === null) this.map.delete(key);
      else this.map.set(key, bytes);
    }
  }

  get size(): number {
    return this.map.size;
  }

  clear(): void {
    this.map.clear();
  }
}

/**
 * One store's state for one input partition, in three layers: what is committed; what the open transaction
 * has changed; what the record being handled has changed. A record's changes join the transaction's when it
 * succeeds and vanish when it becomes a dead letter; the transaction's join the committed state only once its
 * commit is confirmed, and vanish when it aborts. Values are kept as bytes and decoded on every read, so a
 * handler that changes an object it read changes nothing until it puts it.
 */
class StoreState implements KeyValueStore<unknown, unknown> {
  private readonly transaction: Changes = new Map();
  private readonly record: Changes = new Map();

  constructor(
    private readonly bound: BoundStore,
    readonly committed: CommittedState,
  ) {}

  get(key: unknown): unknown {
    const bytes = this.current(this.keyOf(key));
    return bytes === undefined ? undefined : this.decode(this.bound.value, bytes, 'value');
  }

  put(key: unknown, value: unknown): void {
    if (value === undefined) throw new TypeError(`store '${this.bound.name}': put() needs a value; use delete()`);
    this.record.set(this.keyOf(key), this.encode(this.bound.value, value, 'value'));
  }

  delete(key: unknown): void {
    this.record.set(this.keyOf(key), null);
  }

  has(key: unknown): boolean {
    return this.current(this.keyOf(key)) !== undefined;
  }

  *entries(): IterableIterator<[unknown, unknown]> {
    const seen = new Set<string>();
    for (const layer of [this.record, this.transaction]) {
      for (const [key, bytes] of layer) {
        if (seen.has(key)) continue;
        seen.add(key);
        if (bytes !== null) yield this.entry(key, bytes);
      }
    }
    for (const [key, bytes] of this.committed.entries()) if (!seen.has(key)) yield this.entry(key, bytes);
  }

  /** Keys in the committed state. */
  get size(): number {
    return this.committed.size;
  }

  keepRecord(): void {
    for (const [key, bytes] of this.record) this.transaction.set(key, bytes);
    this.record.clear();
  }

  dropRecord(): void {
    this.record.clear();
  }

  /** The open transaction's changes as changelog records for `partition`: the last value of each key. */
  changelogRecords(partition: number): EncodedRecord[] {
    const records: EncodedRecord[] = [];
    for (const [key, bytes] of this.transaction) {
      records.push({
        topic: this.bound.changelog,
        key: Buffer.from(key, 'latin1'),
        value: bytes,
        headers: {},
        partition,
      });
    }
    return records;
  }

  applyTransaction(): void {
    if (this.transaction.size > 0) this.committed.apply(this.transaction);
    this.transaction.clear();
  }

  discardTransaction(): void {
    this.transaction.clear();
    this.record.clear();
  }

  /** Changelog records read back on restore, in log order: the committed state takes them as they are. */
  restore(records: ReadonlyArray<{ readonly key: Buffer; readonly value: Buffer | null }>): void {
    const changes: Changes = new Map();
    for (const { key, value } of records) changes.set(key.toString('latin1'), value);
    this.committed.apply(changes);
  }

  clear(): void {
    this.committed.clear();
    this.discardTransaction();
  }

  private current(key: string): Buffer | undefined {
    const changed = this.record.has(key) ? this.record.get(key) : this.transaction.get(key);
    if (changed !== undefined) return changed ?? undefined;
    return this.committed.get(key);
  }

  private entry(key: string, bytes: Buffer): [unknown, unknown] {
    return [
      this.decode(this.bound.key, Buffer.from(key, 'latin1'), 'key'),
      this.decode(this.bound.value, bytes, 'value'),
    ];
  }

  private keyOf(key: unknown): string {
    if (key === undefined || key === null) throw new TypeError(`store '${this.bound.name}': a key is required`);
    const bytes = this.encode(this.bound.key, key, 'key');
    const limit = this.committed.maxKeyBytes;
    if (limit !== undefined && bytes.length > limit) {
      throw new TypeError(
        `store '${this.bound.name}': a key of ${bytes.length} bytes is longer than a local copy (stateDir) keeps (${limit})`,
      );
    }
    return bytes.toString('latin1');
  }

  private encode(serde: BoundSerde<unknown>, value: unknown, role: 'key' | 'value'): Buffer {
    const bytes = serde.serialize(value);
    if (!Buffer.isBuffer(bytes)) {
      throw new TypeError(
        `store '${this.bound.name}': its ${role} serde must encode synchronously (string, json, bytes and avro do)`,
      );
    }
    return bytes;
  }

  private decode(serde: BoundSerde<unknown>, bytes: Buffer, role: 'key' | 'value'): unknown {
    const value = serde.deserialize(bytes);
    if (value instanceof Promise) {
      throw new TypeError(`store '${this.bound.name}': its ${role} serde must decode synchronously`);
    }
    return value;
  }
}

/**
 * The stores of one input partition (a store is scoped to the input partition, as in Kafka Streams), with the
 * record and transaction boundaries the pipeline and the runtime mark on them.
 */
export class PartitionStores {
  private readonly states: ReadonlyMap<string, StoreState>;
  /** What the handler gets as `context.stores`. */
  readonly views: Readonly<Record<string, KeyValueStore<unknown, unknown>>>;

  constructor(
    stores: readonly BoundStore[],
    /** The input partition: the changelog partition its changes go to. */
    readonly partition: number,
    /** Where each store keeps its committed state; in memory unless the runtime says otherwise. */
    committedFor: (store: BoundStore) => CommittedState = () => new MemoryState(),
  ) {
    this.states = new Map(stores.map((bound) => [bound.name, new StoreState(bound, committedFor(bound))]));
    this.views = Object.freeze(Object.fromEntries(this.states));
  }

  get isEmpty(): boolean {
    return this.states.size === 0;
  }

  /** The record handled now succeeded: its changes join the transaction's. */
  keepRecord(): void {
    for (const state of this.states.values()) state.keepRecord();
  }

  /** The record handled now became a dead letter: its changes are undone. */
  dropRecord(): void {
    for (const state of this.states.values()) state.dropRecord();
  }

  /** The open transaction's changes, as the records to send to the changelogs in the same transaction. */
  changelogRecords(): EncodedRecord[] {
    return [...this.states.values()].flatMap((state) => state.changelogRecords(this.partition));
  }

  /** Phase 3 of a confirmed commit: the transaction's changes become the committed state. */
  applyTransaction(): void {
    for (const state of this.states.values()) state.applyTransaction();
  }

  /** The transaction aborted (or its outcome will be read again from the changelog): its changes vanish. */
  discardTransaction(): void {
    for (const state of this.states.values()) state.discardTransaction();
  }

  /** Changelog records of store `name`, read back in log order: the committed state takes them. */
  restore(name: string, records: ReadonlyArray<{ readonly key: Buffer; readonly value: Buffer | null }>): void {
    const state = this.states.get(name);
    if (!state) throw new Error(`no store '${name}' to restore into`);
    state.restore(records);
  }

  /** Forgets everything of store `name` (of every store if none is named): before a rebuild from the changelog. */
  clear(name?: string): void {
    for (const [storeName, state] of this.states) if (name === undefined || name === storeName) state.clear();
  }

  /** Keys in each store's committed state. */
  sizes(): Record<string, number> {
    return Object.fromEntries([...this.states].map(([name, state]) => [name, state.size]));
  }
}
