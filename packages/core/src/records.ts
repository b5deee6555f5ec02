import type { QueueDelivery } from './queue.js';

/** Header values as the handler sees them: UTF-8 text. */
export type InputHeaders = Readonly<Record<string, string>>;
/** Header values a handler may write. */
export type OutputHeaders = Readonly<Record<string, string | Buffer>>;

/** One input record, key and value already decoded. */
export interface InputRecord<K, V> {
  readonly topic: string;
  readonly partition: number;
  /** Kafka offsets are 64-bit; kept as a decimal string so nothing is rounded. */
  readonly offset: string;
  /** Milliseconds since the epoch (the record's CreateTime or LogAppendTime). */
  readonly timestamp: number;
  /** `null` when the record has no key. */
  readonly key: K | null;
  readonly value: V;
  readonly headers: InputHeaders;
}

/** One record a handler asks to write. */
export interface OutputRecord<K, V> {
  readonly key?: K | null;
  readonly value: V;
  readonly headers?: OutputHeaders;
  /** Leave unset to let Kafka's partitioner choose from the key. */
  readonly partition?: number;
}

/** A record as bytes, as it comes from and goes to Kafka (or from a queue: then `queue` is set). */
export interface RawRecord {
  /** The topic, or a queue's name. */
  readonly topic: string;
  /** 0 for a queue's message. */
  readonly partition: number;
  /** The record's offset; a queue's message has none, and carries its message id here. */
  readonly offset: string;
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, Buffer | string | undefined>>;
  /** Set for a message from a queue: what the handler's QueueRecord carries beyond value and headers. */
  readonly queue?: QueueDelivery;
}

/** An encoded output, ready for a producer. */
export interface EncodedRecord {
  readonly topic: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, Buffer | string>>;
  readonly partition?: number;
}
