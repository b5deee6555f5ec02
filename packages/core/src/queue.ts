import { ExactlyConfigError } from './errors.js';
import type { InputHeaders } from './records.js';
import type { Serde } from './serde.js';
import { changelogTopic } from './store.js';

/** A message as it arrives from a queue, for a `messageId` function: the AMQP properties that may identify it. */
export interface QueueMessage {
  readonly content: Buffer;
  /** The AMQP `message_id` property, if the publisher set one. */
  readonly messageId: string | undefined;
  readonly correlationId: string | undefined;
  readonly routingKey: string;
  readonly exchange: string;
  readonly headers: Readonly<Record<string, unknown>>;
}

/**
 * How many message ids a queue input remembers, and for how long, to recognise a message delivered again. A
 * redelivery after a crash comes within a batch or two; the window also catches a publisher's retries within it.
 */
export interface DedupWindow {
  /** Most ids kept (oldest forgotten first). Default 100,000. */
  readonly ids?: number;
  /** Ids older than this are forgotten (ms). Default 24 hours. */
  readonly maxAgeMs?: number;
}

/**
 * A message queue as a processor's input (made by a source's package: `queue()` of `@exactly/rabbitmq`). Each
 * message is handled once: its id is committed with the outputs, and it is acknowledged after the commit.
 */
export interface Queue<V> {
  readonly kind: 'queue';
  readonly name: string;
  readonly value: Serde<V>;
  /** The message's id when the publisher sets no `message_id`; undefined for none (a dead letter). */
  readonly messageId?: (message: QueueMessage) => string | undefined;
  /** Unacknowledged messages the broker may hand over at once; default twice the batch size. */
  readonly prefetch?: number;
  readonly dedup: Required<DedupWindow>;
  /** Arguments the queue was declared with besides single active consumer (e.g. `x-queue-type`). */
  readonly arguments: Readonly<Record<string, unknown>>;
}

/** Any queue, whatever its value type. */
export type AnyQueue = Queue<unknown>;
export type QueueValueOf<Q> = Q extends Queue<infer V> ? V : never;

/** The record a handler receives from a queue input. */
export interface QueueRecord<V> {
  readonly queue: string;
  /** The message's id: `message_id`, or what the queue's `messageId` function gave. */
  readonly messageId: string;
  readonly routingKey: string;
  /** The exchange it was published to ('' for the default exchange). */
  readonly exchange: string;
  /** The broker delivered it before (to this or another consumer) without an acknowledgement. */
  readonly redelivered: boolean;
  /** Milliseconds since the epoch: the publisher's timestamp, else when it was received. */
  readonly timestamp: number;
  readonly value: V;
  readonly headers: InputHeaders;
}

/** What the runtime knows of a queue message beyond its bytes (on a RawRecord from a queue). */
export interface QueueDelivery {
  readonly messageId: string;
  readonly routingKey: string;
  readonly exchange: string;
  readonly redelivered: boolean;
}

/**
 * The compacted topic a queue input keeps its window of committed message ids in: one per queue, one partition
 * (one writer per queue).
 */
export function dedupChangelogTopic(processorId: string, queue: string): string {
  return changelogTopic(processorId, `${queue}-dedup`);
}

export const DEFAULT_DEDUP_WINDOW: Required<DedupWindow> = Object.freeze({ ids: 100_000, maxAgeMs: 86_400_000 });

export function isQueue(input: unknown): input is AnyQueue {
  return typeof input === 'object' && input !== null && (input as { kind?: unknown }).kind === 'queue';
}

const LEGAL_QUEUE = /^[a-zA-Z0-9._:-]{1,200}$/;

/**
 * A queue name that can also name its transactional.id and de-duplication changelog: letters, digits, '.', '_',
 * '-' and ':' (RabbitMQ allows more, Kafka's ids do not).
 */
export function checkQueueName(name: unknown, field: string): asserts name is string {
  if (typeof name !== 'string' || !LEGAL_QUEUE.test(name) || name.startsWith('amq.')) {
    throw new ExactlyConfigError(
      field,
      `'${String(name)}' is not a usable queue name: 1-200 of letters, digits, '.', '_', '-', ':' (not 'amq.', RabbitMQ's own)`,
    );
  }
}
