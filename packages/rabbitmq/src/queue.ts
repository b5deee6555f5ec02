import {
  checkQueueName,
  DEFAULT_DEDUP_WINDOW,
  type DedupWindow,
  ExactlyConfigError,
  type Queue,
  type QueueMessage,
  type Serde,
} from '@exactly/core';

export interface QueueOptions<V> {
  readonly value: Serde<V>;
  /**
   * The message's id when the publisher sets no `message_id` property (e.g. from a header or the body); return
   * undefined for none: the message then goes to the dead-letter topic. Must give the same id for the same message.
   */
  readonly messageId?: (message: QueueMessage) => string | undefined;
  /** Unacknowledged messages the broker may hand over at once. Default: twice the batch size (maxBatchRecords). */
  readonly prefetch?: number;
  /** How many committed message ids are kept to recognise a message delivered again. Default 100,000 for 24 h. */
  readonly dedup?: DedupWindow;
  /**
   * The queue's other declared arguments (e.g. `{ 'x-queue-type': 'quorum' }`): the queue is checked by declaring
   * it, which RabbitMQ refuses when the arguments differ. `x-single-active-consumer: true` is always added.
   */
  readonly arguments?: Readonly<Record<string, unknown>>;
}

/**
 * A RabbitMQ queue as a processor's input: each message is handled once into Kafka. The queue must be durable
 * with single active consumer (`x-single-active-consumer: true`), so that one instance at a time writes from it;
 * a missing queue is declared so. See docs/rabbitmq.md.
 */
export function queue<V>(name: string, options: QueueOptions<V>): Queue<V> {
  checkQueueName(name, 'queue');
  if (!options || typeof options.value?.deserialize !== 'function') {
    throw new ExactlyConfigError(`queue('${name}').value`, 'a value serde is required, e.g. json<T>() or string()');
  }
  const { messageId, prefetch } = options;
  if (messageId !== undefined && typeof messageId !== 'function') {
    throw new ExactlyConfigError(`queue('${name}').messageId`, 'must be a function (message) => string | undefined');
  }
  if (prefetch !== undefined && (!Number.isInteger(prefetch) || prefetch < 1 || prefetch > 65_535)) {
    throw new ExactlyConfigError(`queue('${name}').prefetch`, 'must be a whole number from 1 to 65535');
  }
  const ids = options.dedup?.ids ?? DEFAULT_DEDUP_WINDOW.ids;
  const maxAgeMs = options.dedup?.maxAgeMs ?? DEFAULT_DEDUP_WINDOW.maxAgeMs;
  if (!Number.isInteger(ids) || ids < 1) {
    throw new ExactlyConfigError(`queue('${name}').dedup.ids`, 'must be a whole number of ids, at least 1');
  }
  if (!(maxAgeMs > 0))
    throw new ExactlyConfigError(`queue('${name}').dedup.maxAgeMs`, 'must be a positive number of ms');
  return Object.freeze({
    kind: 'queue',
    name,
    value: options.value,
    ...(messageId ? { messageId } : {}),
    ...(prefetch ? { prefetch } : {}),
    dedup: Object.freeze({ ids, maxAgeMs }),
    arguments: Object.freeze({ ...options.arguments }),
  });
}
