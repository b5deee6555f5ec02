import { ExactlyConfigError } from './errors.js';
import type { Serde } from './serde.js';
import { string } from './serdes/string.js';

/** A Kafka topic and the serdes of its keys and values. */
export interface Topic<K, V> {
  readonly name: string;
  readonly key: Serde<K>;
  readonly value: Serde<V>;
  /**
   * Records may have no value (a tombstone: a delete, in a compacted topic): the handler gets `value: null` on
   * an input, and may write `value: null` to an output. Without it an input tombstone is a dead letter.
   */
  readonly tombstones?: boolean;
}

/** Any topic, whatever its types: what maps of topics are built from. */
export type AnyTopic = Topic<unknown, unknown>;
export type KeyOf<T> = T extends Topic<infer K, unknown> ? K : never;
export type ValueOf<T> = T extends Topic<unknown, infer V> ? V : never;

export interface TopicSerdes<K, V> {
  /** Defaults to `string()`. A record without a key has key `null` whatever the serde. */
  readonly key?: Serde<K>;
  readonly value: Serde<V>;
  /** `true`: records may be tombstones (`value: null`); their value type becomes `V | null`. Default false. */
  readonly tombstones?: boolean;
}

/**
 * Names a topic and how its records are encoded: `topic('orders', { key: string(), value: json<Order>() })`.
 * With `tombstones: true` its records may have a null value (deletes in a compacted topic).
 */
export function topic<V>(
  name: string,
  serdes: { readonly value: Serde<V>; readonly tombstones: true },
): Topic<string, V | null>;
export function topic<V>(
  name: string,
  serdes: { readonly value: Serde<V>; readonly tombstones?: false },
): Topic<string, V>;
export function topic<K, V>(
  name: string,
  serdes: { readonly key: Serde<K>; readonly value: Serde<V>; readonly tombstones: true },
): Topic<K, V | null>;
export function topic<K, V>(
  name: string,
  serdes: { readonly key: Serde<K>; readonly value: Serde<V>; readonly tombstones?: false },
): Topic<K, V>;
// Overloads, not a defaulted K: inline in `outputs: {...}`, K would be inferred from the expected topic type
// (unknown) instead of defaulting to string.
export function topic<K, V>(name: string, serdes: TopicSerdes<K, V>): Topic<K, V> {
  checkTopicName(name, 'topic');
  if (!serdes || typeof serdes.value?.deserialize !== 'function') {
    throw new ExactlyConfigError(`topic('${name}').value`, 'a value serde is required, e.g. json<T>() or string()');
  }
  const key = (serdes.key ?? string()) as Serde<K>;
  return Object.freeze({ name, key, value: serdes.value, tombstones: serdes.tombstones === true });
}

const LEGAL_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

/** Kafka's own rule for topic names, checked early so the error names the field instead of a broker code. */
export function checkTopicName(name: unknown, field: string): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new ExactlyConfigError(field, 'a topic name must be a non-empty string');
  }
  if (!LEGAL_TOPIC.test(name) || name === '.' || name === '..') {
    throw new ExactlyConfigError(
      field,
      `'${name}' is not a legal Kafka topic name (1-249 of a-z, A-Z, 0-9, '.', '_', '-'; not '.' or '..')`,
    );
  }
}
