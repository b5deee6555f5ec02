import type { AnyQueue, ExchangeMessage } from '@exactly/core';
import {
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  connect,
  type Message,
} from 'amqplib';
import { toDelivery } from './delivery.js';
import { AmqpError, messageOf, replyCode } from './errors.js';

/** What the runtime's QueueSubscription is; repeated structurally so that this package needs no runtime import. */
export interface Subscription {
  alive(): Promise<boolean>;
  close(): Promise<void>;
  readonly closed: Promise<Error | undefined>;
}

export type Delivery = ReturnType<typeof toDelivery>;

/**
 * The runtime's broker port on amqplib (docs/rabbitmq.md says why this library): one connection, reopened on
 * demand after it is lost; a channel per queue subscription, and one confirm channel for publishing. No automatic
 * recovery: a lost channel is reported, so that the engine knows its unacknowledged deliveries went back to the
 * queue (delivery tags belong to their channel; an acknowledgement must never reach another).
 */
export class AmqpConnection {
  private model: Promise<ChannelModel> | undefined;
  private publisher: Promise<ConfirmChannel> | undefined;
  private closing = false;

  private constructor(
    private readonly url: string,
    private readonly heartbeatSeconds: number,
  ) {}

  static async open(url: string, heartbeatSeconds: number): Promise<AmqpConnection> {
    const connection = new AmqpConnection(url, heartbeatSeconds);
    await connection.connection();
    return connection;
  }

  private connection(): Promise<ChannelModel> {
    if (this.closing) return Promise.reject(new AmqpError('retriable', 'the connection to RabbitMQ is closing'));
    if (this.model) return this.model;
    const opening = connect(withHeartbeat(this.url, this.heartbeatSeconds)).then(
      (model) => {
        model.on('error', () => {}); // 'close' follows, with the reason
        model.on('close', () => {
          if (this.model === opening) {
            this.model = undefined;
            this.publisher = undefined;
          }
        });
        return model;
      },
      (error: unknown) => {
        this.model = undefined;
        throw new AmqpError('retriable', `RabbitMQ is not reachable: ${messageOf(error)}`, { cause: error });
      },
    );
    this.model = opening;
    return opening;
  }

  /** See AmqpPort.subscribe. */
  async subscribe(queue: AnyQueue, prefetch: number, onDelivery: (delivery: Delivery) => void): Promise<Subscription> {
    const model = await this.connection();
    await this.checkQueue(model, queue);
    const channel = await this.channel(model, (m) => m.createChannel());
    let reason: Error | undefined;
    const closed = new Promise<Error | undefined>((resolve) => {
      channel.on('error', (error: Error) => {
        reason = error;
      });
      channel.on('close', () => resolve(reason ?? new Error('the channel closed')));
    });
    try {
      await channel.prefetch(prefetch);
      await channel.consume(
        queue.name,
        (message: ConsumeMessage | null) => {
          // null: the broker cancelled the consumer (the queue was deleted): end the channel, the engine starts over.
          if (message === null) void channel.close().catch(() => {});
          else onDelivery(toDelivery(queue, message, () => ack(channel, message)));
        },
        { noAck: false },
      );
    } catch (error) {
      await channel.close().catch(() => {});
      throw asAmqpError(error, `consuming queue ${queue.name}`);
    }
    return {
      // A passive declare: answered only while the channel (and its connection) is alive.
      alive: () =>
        channel.checkQueue(queue.name).then(
          () => true,
          () => false,
        ),
      close: () => channel.close().catch(() => {}),
      closed,
    };
  }

  /**
   * Declares the queue as the processor needs it, on a channel of its own (a refusal closes the channel): durable,
   * single active consumer. RabbitMQ refuses the declaration (406) when the queue exists with other arguments.
   */
  private async checkQueue(model: ChannelModel, queue: AnyQueue): Promise<void> {
    const channel = await this.channel(model, (m) => m.createChannel());
    channel.on('error', () => {});
    try {
      await channel.assertQueue(queue.name, {
        durable: true,
        arguments: { ...queue.arguments, 'x-single-active-consumer': true },
      });
    } catch (error) {
      if (replyCode(error) !== 406) throw asAmqpError(error, `declaring queue ${queue.name}`);
      const singleActive = /x-single-active-consumer/.test(messageOf(error));
      throw new AmqpError(
        'fatal',
        singleActive
          ? `RabbitMQ: queue '${queue.name}' was declared without single active consumer, which a queue input needs (one writer at a time): declare it with the argument x-single-active-consumer: true (a queue's arguments cannot change: declare a new queue, or delete and declare this one again once it is empty). RabbitMQ said: ${messageOf(error)}`
          : `RabbitMQ: queue '${queue.name}' exists with other settings than the processor declares (durable, x-single-active-consumer: true, and queue(name, { arguments }) for the rest, e.g. x-queue-type): ${messageOf(error)}`,
        { cause: error },
      );
    } finally {
      await channel.close().catch(() => {});
    }
  }

  /** See AmqpPort.publish. */
  async publish(messages: readonly ExchangeMessage[]): Promise<void> {
    const channel = await this.publishing();
    const returned = new Set<string>();
    const onReturn = (message: Message) => {
      const id = message.properties.messageId;
      if (typeof id === 'string') returned.add(id);
    };
    channel.on('return', onReturn);
    try {
      for (const message of messages) {
        const more = channel.publish(message.exchange, message.routingKey, message.content, {
          persistent: true,
          mandatory: true,
          messageId: message.messageId,
          timestamp: Math.floor(message.timestamp / 1000),
          headers: { ...message.headers, timestamp_in_ms: message.timestamp },
        });
        if (!more) await new Promise((resolve) => channel.once('drain', resolve));
      }
      // Every message is confirmed (or nacked) after its return, if it had one: the returns are all in now.
      await channel.waitForConfirms();
    } catch (error) {
      throw asAmqpError(error, 'publishing');
    } finally {
      channel.off('return', onReturn);
    }
    if (returned.size === 0) return;
    const index = messages.findIndex((message) => returned.has(message.messageId));
    const first = messages[index];
    if (!first) return;
    throw new AmqpError(
      'refused',
      `exchange '${first.exchange}' routed the message with routing key '${first.routingKey}' to no queue (it is published with the mandatory flag): bind a queue to the exchange for that key`,
      { index },
    );
  }

  private publishing(): Promise<ConfirmChannel> {
    if (this.publisher) return this.publisher;
    const opening = this.connection().then((model) =>
      this.channel(model, (m) => m.createConfirmChannel()).then((channel) => {
        channel.on('error', () => {});
        channel.on('close', () => {
          if (this.publisher === opening) this.publisher = undefined;
        });
        return channel;
      }),
    );
    opening.catch(() => {
      if (this.publisher === opening) this.publisher = undefined;
    });
    this.publisher = opening;
    return opening;
  }

  /** See AmqpPort.checkExchanges. */
  async checkExchanges(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    const model = await this.connection();
    for (const name of names) {
      const channel = await this.channel(model, (m) => m.createChannel());
      channel.on('error', () => {});
      try {
        await channel.checkExchange(name);
      } catch (error) {
        if (replyCode(error) !== 404) throw asAmqpError(error, `checking exchange ${name}`);
        throw new AmqpError(
          'fatal',
          `RabbitMQ: exchange '${name}' does not exist: declare it (durable, of the type your consumers bind with) before starting the processor`,
          { cause: error },
        );
      } finally {
        await channel.close().catch(() => {});
      }
    }
  }

  private async channel<C extends Channel>(
    model: ChannelModel,
    create: (model: ChannelModel) => Promise<C>,
  ): Promise<C> {
    try {
      return await create(model);
    } catch (error) {
      throw asAmqpError(error, 'opening a channel');
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    const model = await this.model?.catch(() => undefined);
    this.model = undefined;
    this.publisher = undefined;
    await model?.close().catch(() => {});
  }
}

/** False when the channel is gone: its deliveries are back in the queue. */
function ack(channel: Channel, message: ConsumeMessage): boolean {
  try {
    channel.ack(message, true);
    return true;
  } catch {
    return false;
  }
}

function asAmqpError(error: unknown, doing: string): AmqpError {
  if (error instanceof AmqpError) return error;
  const code = replyCode(error);
  // 403 ACCESS_REFUSED, 404 NOT_FOUND, 406 PRECONDITION_FAILED, 530 NOT_ALLOWED: no retry mends them.
  const fatal = code === 403 || code === 404 || code === 406 || code === 530;
  return new AmqpError(fatal ? 'fatal' : 'retriable', `RabbitMQ, ${doing}: ${messageOf(error)}`, { cause: error });
}

/** The URL with a heartbeat interval, unless it names one itself. */
function withHeartbeat(url: string, seconds: number): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', String(seconds));
  return parsed.toString();
}
