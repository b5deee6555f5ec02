import { ExactlyConfigError } from './errors.js';
import type { Serde } from './serde.js';

/** The value type of an exchange, for the type checker only. */
declare const valueType: unique symbol;

/**
 * A message exchange as an output (made by `exchange()` of `@exactly/rabbitmq`): messages are published with
 * publisher confirms before the batch's commit, with a message id that is the same each time the batch is redone.
 */
export interface Exchange<V> {
  readonly kind: 'exchange';
  readonly name: string;
  readonly value: Serde<V>;
  /** The routing key of messages that give none. */
  readonly routingKey: string;
  readonly [valueType]?: V;
}

export type AnyExchange = Exchange<unknown>;
export type ExchangeValueOf<E> = E extends Exchange<infer V> ? V : never;

/** One message for an exchange, as a handler returns it. */
export interface ExchangeEntry<V> {
  readonly value: V;
  /** Default: the exchange's routingKey. */
  readonly routingKey?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A message on its way to its exchange: what the pipeline hands to the exchange's publisher. */
export interface ExchangeMessage {
  /** The output's name in the processor. */
  readonly output: string;
  readonly exchange: string;
  readonly routingKey: string;
  readonly content: Buffer;
  readonly headers: Readonly<Record<string, string>>;
  /** Derived from the input's position and the entry's place: a redone batch publishes the same ids. */
  readonly messageId: string;
  /** The input's timestamp (ms), published as the message's timestamp. */
  readonly timestamp: number;
}

export function isExchange(output: unknown): output is AnyExchange {
  return typeof output === 'object' && output !== null && (output as { kind?: unknown }).kind === 'exchange';
}

const LEGAL_EXCHANGE = /^[a-zA-Z0-9._:-]{1,255}$/;

export function checkExchangeName(name: unknown, field: string): asserts name is string {
  if (typeof name !== 'string' || !LEGAL_EXCHANGE.test(name) || name.startsWith('amq.')) {
    throw new ExactlyConfigError(
      field,
      `'${String(name)}' is not a usable exchange name: 1-255 of letters, digits, '.', '_', '-', ':' (not 'amq.', RabbitMQ's own; publishing to the default exchange is not supported)`,
    );
  }
}
