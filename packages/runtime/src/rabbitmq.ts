import { setTimeout as delay } from 'node:timers/promises';
import { ExactlyConfigError, isExchange, isQueue, type Processor } from '@exactly/core';
import { backoffMs } from './backoff.js';
import type { Logger } from './observability/logger.js';
import type { AmqpPort, OpenAmqp } from './port/amqp.js';
import { urlWithoutPassword } from './url-without-password.js';

/** Missed heartbeats for about twice this long end a paused instance's connection: the queue moves on. */
const HEARTBEAT_SECONDS = 10;

/** The queue and exchanges a processor uses; none for a processor of topics only. */
function brokerUses(processor: Processor): string[] {
  const uses = Object.values(processor.outputs)
    .filter(isExchange)
    .map((exchange) => `exchange ${exchange.name}`);
  if (isQueue(processor.input)) uses.unshift(`queue ${processor.input.name}`);
  return uses;
}

/** A processor with a queue or exchanges needs the broker's URL: checked before anything is reached. */
export function checkRabbitmqOption(processor: Processor, url: string | undefined): void {
  const uses = brokerUses(processor);
  if (uses.length === 0 || url !== undefined) return;
  throw new ExactlyConfigError(
    'rabbitmq',
    `processor '${processor.id}' uses RabbitMQ (${uses.join(', ')}): give the broker as ` +
      `run(processor, { rabbitmq: 'amqp://user:password@host:5672/vhost' }), exactly run --rabbitmq URL, or ` +
      'RABBITMQ_URL (exactly rabbitmq start runs one for development)',
  );
}

/**
 * Connects to the broker of a processor with a queue input or exchange outputs, through `@exactly/rabbitmq`
 * (loaded only then), and checks that its exchanges exist.
 */
export async function openRabbitmq(
  processor: Processor,
  url: string | undefined,
  startupTimeoutMs: number,
  log: Logger,
): Promise<AmqpPort | undefined> {
  checkRabbitmqOption(processor, url);
  if (url === undefined || brokerUses(processor).length === 0) return undefined;
  let openAmqp: OpenAmqp;
  try {
    ({ openAmqp } = await import('@exactly/rabbitmq/runtime'));
  } catch (error) {
    throw new ExactlyConfigError(
      'input',
      `processor '${processor.id}' uses RabbitMQ, which needs @exactly/rabbitmq beside @exactly/runtime: ` +
        `pnpm add @exactly/rabbitmq (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const amqp = await connectWithin(openAmqp, url, startupTimeoutMs, log);
  try {
    await amqp.checkExchanges(
      Object.values(processor.outputs)
        .filter(isExchange)
        .map((e) => e.name),
    );
  } catch (error) {
    await amqp.close();
    throw error;
  }
  return amqp;
}

/**
 * The first connection, tried again while the broker is not reachable (it may be starting beside the service) for
 * up to `startupTimeoutMs`; then an error naming the broker.
 */
async function connectWithin(
  openAmqp: OpenAmqp,
  url: string,
  startupTimeoutMs: number,
  log: Logger,
): Promise<AmqpPort> {
  const deadline = Date.now() + startupTimeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await openAmqp({ url, heartbeatSeconds: HEARTBEAT_SECONDS });
    } catch (error) {
      const retriable = (error as { kind?: unknown }).kind === 'retriable';
      const message = error instanceof Error ? error.message : String(error);
      if (!retriable || Date.now() >= deadline) {
        throw new Error(`RabbitMQ at ${describeRabbitmq(url)}: ${message}`, { cause: error });
      }
      log.warn({ rabbitmq: describeRabbitmq(url), error: message, attempt }, 'RabbitMQ not reachable yet; retrying');
      await delay(Math.min(backoffMs(attempt), Math.max(0, deadline - Date.now())));
    }
  }
}

/** The URL without its password, for logs. */
export function describeRabbitmq(url: string): string {
  return urlWithoutPassword(url, 'amqp://(unparsable URL)');
}
