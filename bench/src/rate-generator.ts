// Writes ~1 KB JSON records at a fixed rate for the latency phase: a small batch every 10 ms (not one burst a
// second), each record carrying its send time in the value ("sentAt"), which every contender copies to LEFT.
// The rate can change on the way: a trickle while the contender starts, then the measured rate.
import { setTimeout as delay } from 'node:timers/promises';
import { testClient } from '@exactly/testkit';
import type { Producer } from 'kafkajs';

const TICK_MS = 10;
/** Sends still unanswered before a tick is skipped (its records then go with the next one). */
const MAX_IN_FLIGHT = 32;
/**
 * Records per send: ~500 KB, under the broker's default message.max.bytes (1 MB) even when all go to one partition.
 * One send of a whole backlog once failed a full run with MESSAGE_TOO_LARGE (6 partitions, 32,000 records/s).
 */
const MAX_RECORDS_PER_SEND = 500;
const PAD = 'x'.repeat(980); // with id and sentAt: ~1 KB, like the throughput phase's records

export class RateGenerator {
  private sent = 0;
  private stopped = false;
  private failure: unknown;
  /** [send time, records] of every batch, to count what was sent inside the measured window. */
  private readonly batches: Array<readonly [number, number]> = [];
  private readonly loop: Promise<void>;
  private stopping: Promise<void> | undefined;

  /** The current rate, since `since` (performance.now()) when `sentBefore` records had been sent. */
  private pace: { rate: number; since: number; sentBefore: number };

  private constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    rate: number,
  ) {
    this.pace = { rate, since: performance.now(), sentBefore: 0 };
    this.loop = this.run();
  }

  static async start(brokers: string, topic: string, rate: number): Promise<RateGenerator> {
    const producer = testClient(brokers, 'exactly-bench-rate').producer({ allowAutoTopicCreation: false });
    await producer.connect();
    return new RateGenerator(producer, topic, rate);
  }

  setRate(rate: number): void {
    this.pace = { rate, since: performance.now(), sentBefore: this.sent };
  }

  /** Records sent at or after `from` and before `to` (Date.now() times). */
  sentBetween(from: number, to: number): number {
    return this.batches.reduce((sum, [at, count]) => (at >= from && at < to ? sum + count : sum), 0);
  }

  get total(): number {
    return this.sent;
  }

  /** Stops sending, waits for the sends under way, and disconnects. */
  stop(): Promise<void> {
    this.stopped = true;
    this.stopping ??= (async () => {
      await this.loop;
      await this.producer.disconnect();
      if (this.failure) throw this.failure;
    })();
    return this.stopping;
  }

  private async run(): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    while (!this.stopped && !this.failure) {
      const { rate, since, sentBefore } = this.pace;
      let due = sentBefore + Math.floor(((performance.now() - since) / 1000) * rate) - this.sent;
      // A backlog (the broker slow to answer) goes out in several sends, each under the broker's message size.
      while (due > 0 && inFlight.size < MAX_IN_FLIGHT) {
        const count = Math.min(due, MAX_RECORDS_PER_SEND);
        due -= count;
        const send: Promise<void> = this.send(count).then(
          () => void inFlight.delete(send),
          (error: unknown) => {
            this.failure = error;
          },
        );
        inFlight.add(send);
      }
      await delay(TICK_MS);
    }
    await Promise.all(inFlight);
  }

  private send(count: number): Promise<unknown> {
    const sentAt = Date.now();
    const messages = [];
    for (let id = this.sent; id < this.sent + count; id++)
      messages.push({ key: `key-${id}`, value: `{"id":${id},"sentAt":${sentAt},"pad":"${PAD}"}` });
    this.sent += count;
    this.batches.push([sentAt, count]);
    return this.producer.send({ topic: this.topic, acks: -1, messages });
  }
}
