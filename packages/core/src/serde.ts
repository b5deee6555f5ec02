import type { SchemaRegistryClient } from './registry.js';

/** Which half of a record a serde handles; Avro subjects are `<topic>-key` and `<topic>-value`. */
export type SerdeRole = 'key' | 'value';

/** What a serde is told once, before the first record, by the runtime or the TestDriver. */
export interface SerdeSetup {
  readonly topic: string;
  readonly role: SerdeRole;
  /** Present when the processor was run with a schema registry; required by `avro()`. */
  readonly registry?: SchemaRegistryClient | undefined;
}

/**
 * Turns bytes into a `T` and back. Throwing from `deserialize`/`serialize` is how a serde says the input
 * is bad: the pipeline wraps it in a DecodeError/EncodeError with the record's location.
 * Methods (not function properties) on purpose: a `Serde<Order>` is then usable where a `Serde<unknown>`
 * is expected, which keeps topic maps typed without `any`.
 */
export interface Serde<T> {
  /** Short name shown in errors and docs, e.g. `json`, `avro`. */
  readonly name: string;
  /** Prepares the serde for one topic (Avro registers its schema here, once, not per record). */
  setup?(context: SerdeSetup): Promise<BoundSerde<T>>;
  serialize(value: T): Buffer | Promise<Buffer>;
  deserialize(bytes: Buffer): T | Promise<T>;
}

/** A serde after setup for one topic and role. */
export interface BoundSerde<T> {
  serialize(value: T): Buffer | Promise<Buffer>;
  deserialize(bytes: Buffer): T | Promise<T>;
}

/** Binds a serde to its topic and role: runs its setup if it has one. */
export async function bindSerde<T>(serde: Serde<T>, context: SerdeSetup): Promise<BoundSerde<T>> {
  return serde.setup ? serde.setup(context) : serde;
}
