import { setTimeout as delay } from 'node:timers/promises';
import { type ChannelModel, type ConfirmChannel, connect } from 'amqplib';

export interface QueuePublishOptions {
  /** The broker, as an AMQP URL. */
  readonly url: string;
  /** The queue, published to through the default exchange. */
  readonly queue: string;
  /** Messages to publish: ids `idOf(0)` to `idOf(count - 1)`. */
  readonly count: number;
  /** The share of `count` that may be published by now (0 to 1): lets a caller pace the publisher. Default 1. */
  readonly share?: () => number;
  /** The message id of message n. Default `m-<n>`. */
  readonly idOf?: (n: number) => string;
  /** The body of message n. Default `{ n }` as JSON. */
  readonly body?: (n: number) => unknown;
  /** Messages published (confirmed) so far. */
  readonly progress?: (published: number) => void;
  readonly log?: (line: string) => void;
  /** A publish not confirmed within this is taken as lost, and published again. Default 20 s. */
  readonly confirmTimeoutMs?: number;
}

export interface QueuePublishResult {
  /** Distinct message ids published (each confirmed at least once). */
  readonly published: number;
  /** Publishes of an id already sent once whose confirm had not come (a publisher's retry): possible duplicates. */
  readonly republished: number;
  /** Times the publisher connected again after losing its connection. */
  readonly reconnects: number;
}

/** The id of message n as the chaos publisher gives it. */
export const queueMessageId = (n: number): string => `m-${n}`;

/**
 * A publisher as an application would write it: persistent messages with a `message_id` and a `timestamp_in_ms`
 * header, on a confirm channel, in chunks. A message whose confirm does not come (the connection dropped, the
 * node was killed, a nack) is published again with the same id once a connection is back: at least once, the
 * duplicates for the consumer's de-duplication to absorb.
 */
export async function publishToQueue(options: QueuePublishOptions): Promise<QueuePublishResult> {
  const share = options.share ?? (() => 1);
  const idOf = options.idOf ?? queueMessageId;
  const body = options.body ?? ((n: number) => ({ n }));
  const log = options.log ?? (() => {});
  const confirmTimeoutMs = options.confirmTimeoutMs ?? 20_000;
  const chunk = 200;
  let model: ChannelModel | undefined;
  let channel: ConfirmChannel | undefined;
  /** Rejects the confirms still awaited on the current channel when it closes. */
  let closed: Promise<never> = new Promise(() => {});
  let republished = 0;
  let reconnects = 0;
  let connections = 0;
  const open = async (): Promise<ConfirmChannel> => {
    if (channel) return channel;
    for (let attempt = 0; ; attempt++) {
      try {
        const opened = await connect(options.url, { timeout: 5000 });
        opened.on('error', () => {}); // a close follows, handled below
        const confirm = await opened.createConfirmChannel();
        confirm.on('error', () => {});
        closed = new Promise<never>((_, reject) => {
          const lost = () => {
            if (channel === confirm) channel = undefined;
            reject(new Error('the channel closed'));
          };
          confirm.once('close', lost);
          opened.once('close', lost);
        });
        closed.catch(() => {});
        model = opened;
        channel = confirm;
        if (connections++ > 0) reconnects++;
        return confirm;
      } catch (error) {
        if (attempt % 10 === 0) log(`publisher: connecting failed (${String(error)}); trying again`);
        await delay(500);
      }
    }
  };
  try {
    for (let first = 0; first < options.count; first += chunk) {
      while (first >= share() * options.count) await delay(20);
      let pending = Array.from({ length: Math.min(chunk, options.count - first) }, (_, i) => first + i);
      let attempt = 0;
      while (pending.length > 0) {
        if (attempt++ > 0) republished += pending.length;
        const current = await open();
        const sent = pending.map((n) => {
          const confirmed = new Promise<boolean>((resolve) => {
            try {
              current.sendToQueue(
                options.queue,
                Buffer.from(JSON.stringify(body(n))),
                { persistent: true, messageId: idOf(n), headers: { timestamp_in_ms: Date.now() } },
                (error) => resolve(error === null || error === undefined),
              );
            } catch {
              resolve(false); // the channel is already closed
            }
          });
          return { n, confirmed };
        });
        const timeout = delay(confirmTimeoutMs).then(() => 'timeout' as const);
        const outcomes = await Promise.all(
          sent.map(({ n, confirmed }) =>
            Promise.race([confirmed, closed.catch(() => false), timeout.then(() => false)]).then((ok) => ({ n, ok })),
          ),
        );
        pending = outcomes.filter((o) => !o.ok).map((o) => o.n);
        if (pending.length > 0) {
          log(`publisher: ${pending.length} message(s) not confirmed; publishing them again with the same ids`);
          // A channel that lost confirms is not trusted again: a fresh connection for the retry.
          const stale = model;
          channel = undefined;
          model = undefined;
          await closeWithin(stale);
          await delay(200);
        }
      }
      options.progress?.(Math.min(first + chunk, options.count));
    }
  } finally {
    await closeWithin(model);
  }
  return { published: options.count, republished, reconnects };
}

/** Closes a connection, not waiting more than 2 s on one whose node is gone. */
async function closeWithin(model: ChannelModel | undefined): Promise<void> {
  if (!model) return;
  await Promise.race([model.close().catch(() => {}), delay(2000)]);
}

export interface QueueTopology {
  readonly url: string;
  /** A durable queue with single active consumer, as a queue input needs. */
  readonly queue: string;
  /** A durable topic exchange, and a durable queue bound to it for `pattern` (default '#') that watches it. */
  readonly exchange?: { readonly name: string; readonly watch: string; readonly pattern?: string };
}

/** Declares a queue input's queue, and an exchange output with a queue watching it (a verifier reads it). */
export async function declareQueueTopology(topology: QueueTopology): Promise<void> {
  const model = await connect(topology.url);
  try {
    const channel = await model.createChannel();
    await channel.assertQueue(topology.queue, { durable: true, arguments: { 'x-single-active-consumer': true } });
    const { exchange } = topology;
    if (exchange) {
      await channel.assertExchange(exchange.name, 'topic', { durable: true });
      await channel.assertQueue(exchange.watch, { durable: true });
      await channel.bindQueue(exchange.watch, exchange.name, exchange.pattern ?? '#');
    }
  } finally {
    await closeWithin(model);
  }
}

/** Messages ready in `queue` (not counting those delivered and not yet acknowledged). */
export async function queueReady(url: string, queue: string): Promise<number> {
  const model = await connect(url, { timeout: 5000 });
  model.on('error', () => {});
  try {
    const channel = await model.createChannel();
    return (await channel.checkQueue(queue)).messageCount;
  } finally {
    await closeWithin(model);
  }
}
