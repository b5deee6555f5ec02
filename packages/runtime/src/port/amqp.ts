import type { AnyQueue, ExchangeMessage } from '@exactly/core';

/**
 * The engine's view of a message broker speaking AMQP 0-9-1 (RabbitMQ): `@exactly/rabbitmq` implements it,
 * loaded only for a processor with a queue input or exchange outputs. Small on purpose, like the Kafka client
 * port. Errors it rejects with carry a `kind`, as ClientError's: 'fatal' (configuration: stop, saying what to
 * change), 'retriable' (the broker or the channel went away), 'refused' (a message the broker will never take).
 */
export interface AmqpPort {
  /**
   * Checks that `queue` is durable with single active consumer (declares it so when it does not exist), then
   * consumes it with manual acknowledgements, at most `prefetch` unacknowledged. Deliveries come in order.
   */
  subscribe(
    queue: AnyQueue,
    prefetch: number,
    onDelivery: (delivery: AmqpDelivery) => void,
  ): Promise<QueueSubscription>;
  /**
   * Publishes with publisher confirms and the mandatory flag; resolves once the broker confirmed every message.
   * A message that no queue took (unroutable) rejects with kind 'refused' and its `index` in `messages`.
   */
  publish(messages: readonly ExchangeMessage[]): Promise<void>;
  /** Checks that each exchange exists: a missing one is 'fatal'. */
  checkExchanges(names: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** One message delivered from a queue, with what the engine needs of it. */
export interface AmqpDelivery {
  readonly content: Buffer;
  /** `message_id`, else what the queue's `messageId` function gave; undefined: the message has none. */
  readonly messageId: string | undefined;
  readonly routingKey: string;
  readonly exchange: string;
  readonly redelivered: boolean;
  /** Header values as text. */
  readonly headers: Readonly<Record<string, string>>;
  /** When it was published (ms), from a `timestamp_in_ms` header or the AMQP timestamp; undefined: unknown. */
  readonly publishedAt: number | undefined;
  /**
   * Acknowledges this delivery and every earlier one of its subscription. False when the subscription's channel
   * is gone: the broker has put them back in the queue.
   */
  ack(): boolean;
}

/** A queue being consumed, on a channel of its own. */
export interface QueueSubscription {
  /**
   * A round trip on the channel: false when it is gone. A process resumed after a pause may not have heard yet that
   * the broker closed its connection (and gave the queue to another consumer): it asks before taking the queue over.
   */
  alive(): Promise<boolean>;
  /** Stops consuming and closes the channel: its unacknowledged deliveries go back to the queue. */
  close(): Promise<void>;
  /** Resolves when the channel has closed (by close(), the broker, or a lost connection), with the reason. */
  readonly closed: Promise<Error | undefined>;
}

/** What opens the broker side: `@exactly/rabbitmq/runtime`'s entry point. */
export type OpenAmqp = (options: {
  readonly url: string;
  /** Missed heartbeats end a paused instance's connection, so that another consumer takes the queue over. */
  readonly heartbeatSeconds: number;
}) => Promise<AmqpPort>;
