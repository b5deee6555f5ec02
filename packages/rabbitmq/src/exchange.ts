import { checkExchangeName, ExactlyConfigError, type Exchange, type Serde } from '@exactly/core';

export interface ExchangeOptions<V> {
  readonly value: Serde<V>;
  /** The routing key of messages that give none. Default ''. */
  readonly routingKey?: string;
}

/**
 * A RabbitMQ exchange as an output: the handler returns `{ value, routingKey?, headers? }` entries for it. They
 * are published persistent, with publisher confirms and the mandatory flag, before the batch's commit, with a
 * `message_id` that is the same each time the batch is redone: at least once, with stable ids. The exchange must
 * exist (it is checked at start). See docs/rabbitmq.md.
 */
export function exchange<V>(name: string, options: ExchangeOptions<V>): Exchange<V> {
  checkExchangeName(name, 'exchange');
  if (!options || typeof options.value?.serialize !== 'function') {
    throw new ExactlyConfigError(`exchange('${name}').value`, 'a value serde is required, e.g. json<T>() or string()');
  }
  const routingKey = options.routingKey ?? '';
  if (typeof routingKey !== 'string' || Buffer.byteLength(routingKey) > 255) {
    throw new ExactlyConfigError(`exchange('${name}').routingKey`, 'must be a string of at most 255 bytes');
  }
  return Object.freeze({ kind: 'exchange', name, value: options.value, routingKey });
}
