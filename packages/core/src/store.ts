import { ExactlyConfigError } from './errors.js';
import type { Serde } from './serde.js';
import { string } from './serdes/string.js';

/** A key-value store a processor declares: the serdes of its keys and values (as a topic's). */
export interface Store<K, V> {
  readonly kind: 'store';
  readonly key: Serde<K>;
  readonly value: Serde<V>;
}

/** Any store, whatever its types: what maps of stores are built from. */
export type AnyStore = Store<unknown, unknown>;

/** Stores by the name the handler uses for them. */
export type StoreMap = Readonly<Record<string, AnyStore>>;

export type StoreKeyOf<S> = S extends Store<infer K, unknown> ? K : never;
export type StoreValueOf<S> = S extends Store<unknown, infer V> ? V : never;

export interface StoreSerdes<K, V> {
  /** Defaults to `string()`. */
  readonly key?: Serde<K>;
  readonly value: Serde<V>;
}

/**
 * Declares a key-value store: `stores: { balances: store({ key: string(), value: json<number>() }) }`. Its
 * changes commit in the same transaction as the outputs and offsets, to the compacted changelog topic
 * `<processor id>-<store name>-changelog`. The serdes must encode synchronously (string, json, bytes, avro do):
 * the handler reads and writes a store synchronously.
 */
export function store<V>(serdes: { readonly value: Serde<V> }): Store<string, V>;
export function store<K, V>(serdes: { readonly key: Serde<K>; readonly value: Serde<V> }): Store<K, V>;
// Overloads, not a defaulted K: inline in `stores: {...}`, K would be inferred from the expected store type
// (unknown) instead of defaulting to string.
export function store<K, V>(serdes: StoreSerdes<K, V>): Store<K, V> {
  if (!serdes || typeof serdes.value?.serialize !== 'function') {
    throw new ExactlyConfigError('store().value', 'a value serde is required, e.g. json<T>() or string()');
  }
  const key = (serdes.key ?? string()) as Serde<K>;
  return Object.freeze({ kind: 'store' as const, key, value: serdes.value });
}

/**
 * One store as the handler sees it: the state of the input partition of the record being handled, with the
 * writes of earlier records of the same transaction. Writes of a record that becomes a dead letter are undone.
 */
export interface KeyValueStore<K, V> {
  get(key: K): V | undefined;
  put(key: K, value: V): void;
  delete(key: K): void;
  has(key: K): boolean;
  /** Every entry of the partition's store, in no particular order. */
  entries(): IterableIterator<[K, V]>;
}

/** A processor's stores, typed by name. */
export type StoresOf<S extends StoreMap> = {
  readonly [Name in keyof S]: KeyValueStore<StoreKeyOf<S[Name]>, StoreValueOf<S[Name]>>;
};

/** The handler's second argument. More may come here (timers and the like). */
export interface HandlerContext<S extends StoreMap = StoreMap> {
  readonly stores: StoresOf<S>;
}

/** The changelog topic of a store: where its changes are committed, compacted, one partition per input one. */
export function changelogTopic(processorId: string, storeName: string): string {
  return `${processorId}-${storeName}-changelog`;
}
