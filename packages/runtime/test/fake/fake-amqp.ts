import type { AnyQueue, ExchangeMessage } from '@exactly/core';
import type { AmqpDelivery, AmqpPort, QueueSubscription } from '../../src/port/amqp.js';

interface Message {
  readonly id: string | undefined;
  readonly content: Buffer;
  redelivered: boolean;
}

interface FakeChannel {
  readonly onDelivery: (delivery: AmqpDelivery) => void;
  /** Delivered, not acknowledged, in delivery order. */
  readonly unacked: Message[];
  open: boolean;
  close(reason: Error): void;
}

/**
 * An in-memory RabbitMQ behind the engine's broker port: one queue with single active consumer (the first open
 * subscription is active, the others wait), prefetch, acknowledgements with `multiple`, requeue of a closed
 * channel's unacknowledged messages (at the head, marked redelivered), and exchanges that record what was
 * published (confirmed) or return what `unroutable` picks. A test closes the active channel (a lost connection,
 * a missed heartbeat) whenever it likes, e.g. on an acknowledgement.
 */
export class FakeAmqp implements AmqpPort {
  private ready: Message[] = [];
  private readonly channels: FakeChannel[] = [];
  private prefetch = 1;
  /** Every confirmed publish, in order (a batch redone publishes again). */
  readonly published: ExchangeMessage[] = [];
  acknowledged = 0;
  subscriptions = 0;
  /** Messages the exchanges return (no queue bound for them). */
  unroutable: (message: ExchangeMessage) => boolean = () => false;
  /** Runs at each acknowledgement, before it takes effect: return false to lose it (the channel closes first). */
  onAck: () => boolean = () => true;
  /** Fails the next publishes with a lost channel. */
  failPublishes = 0;

  /** Publishes to the queue, as a producer would: `id` undefined is a message without message_id. */
  enqueue(messages: ReadonlyArray<{ id: string | undefined; value: unknown }>): void {
    for (const { id, value } of messages) {
      this.ready.push({ id, content: Buffer.from(JSON.stringify(value)), redelivered: false });
    }
    this.dispatch();
  }

  /** Messages not yet acknowledged (ready or delivered). */
  get left(): number {
    return this.ready.length + this.channels.reduce((n, c) => n + (c.open ? c.unacked.length : 0), 0);
  }

  /** Channels the broker closed that their consumer has not heard of yet (a paused process, resumed). */
  private readonly silentlyClosed = new Set<FakeChannel>();

  /**
   * A paused consumer's connection ended by the broker: its deliveries go back to the queue at once, and the
   * consumer hears of it only after `noticeAfterMs` (a resumed process reads the closed socket late).
   */
  closeActiveSilently(noticeAfterMs: number): void {
    const channel = this.active();
    if (!channel) return;
    this.silentlyClosed.add(channel);
    const held = [...channel.unacked];
    channel.unacked.length = 0;
    for (const message of held) message.redelivered = true;
    this.ready.unshift(...held);
    queueMicrotask(() => this.dispatch()); // to the next consumer
    setTimeout(() => channel.close(new Error('connection closed by the broker (missed heartbeats)')), noticeAfterMs);
  }

  /** Closes the active consumer's channel (its connection lost): its deliveries go back to the queue. */
  closeActive(): void {
    this.active()?.close(new Error('connection lost (heartbeat missed)'));
  }

  async subscribe(
    _queue: AnyQueue,
    prefetch: number,
    onDelivery: (d: AmqpDelivery) => void,
  ): Promise<QueueSubscription> {
    this.prefetch = prefetch;
    this.subscriptions++;
    let resolveClosed!: (reason: Error | undefined) => void;
    const closed = new Promise<Error | undefined>((resolve) => {
      resolveClosed = resolve;
    });
    const channel: FakeChannel = {
      onDelivery,
      unacked: [],
      open: true,
      close: (reason) => {
        if (!channel.open) return;
        channel.open = false;
        for (const message of channel.unacked) message.redelivered = true;
        this.ready.unshift(...channel.unacked);
        channel.unacked.length = 0;
        resolveClosed(reason);
        queueMicrotask(() => this.dispatch());
      },
    };
    this.channels.push(channel);
    queueMicrotask(() => this.dispatch());
    return {
      alive: async () => channel.open && !this.silentlyClosed.has(channel),
      close: async () => channel.close(new Error('closed by the consumer')),
      closed,
    };
  }

  async publish(messages: readonly ExchangeMessage[]): Promise<void> {
    if (this.failPublishes > 0) {
      this.failPublishes--;
      throw Object.assign(new Error('channel closed'), { kind: 'retriable' });
    }
    const index = messages.findIndex((m) => this.unroutable(m));
    this.published.push(...messages.filter((m) => !this.unroutable(m)));
    if (index >= 0) {
      throw Object.assign(new Error(`exchange '${messages[index]?.exchange}' routed the message to no queue`), {
        kind: 'refused',
        index,
      });
    }
  }

  async checkExchanges(): Promise<void> {}

  async close(): Promise<void> {
    for (const channel of this.channels) channel.close(new Error('connection closed'));
  }

  private active(): FakeChannel | undefined {
    return this.channels.find((c) => c.open && !this.silentlyClosed.has(c));
  }

  /** Single active consumer: only the first open channel gets messages, up to the prefetch. */
  private dispatch(): void {
    const channel = this.active();
    if (!channel) return;
    while (this.ready.length > 0 && channel.unacked.length < this.prefetch) {
      const message = this.ready.shift() as Message;
      channel.unacked.push(message);
      channel.onDelivery({
        content: message.content,
        messageId: message.id,
        routingKey: 'orders',
        exchange: '',
        redelivered: message.redelivered,
        headers: {},
        publishedAt: undefined,
        ack: () => this.ack(channel, message),
      });
    }
  }

  private ack(channel: FakeChannel, upTo: Message): boolean {
    if (!this.onAck()) channel.close(new Error('connection lost before the acknowledgement'));
    if (!channel.open || this.silentlyClosed.has(channel)) return false;
    const index = channel.unacked.indexOf(upTo);
    const done = channel.unacked.splice(0, index + 1);
    this.acknowledged += done.length;
    queueMicrotask(() => this.dispatch());
    return true;
  }
}
