import { AmqpConnection } from './connection.js';

/**
 * The runtime's entry point (`@exactly/rabbitmq/runtime`, loaded by `run()` for a processor with a queue input or
 * exchange outputs): the broker side of its transactions. Not for applications: they use `queue()` and
 * `exchange()`.
 */
export async function openAmqp(options: {
  readonly url: string;
  readonly heartbeatSeconds: number;
}): Promise<AmqpConnection> {
  return AmqpConnection.open(options.url, options.heartbeatSeconds);
}
