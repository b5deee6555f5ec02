// The latency phase's reader: a read_committed consumer of LEFT that notes, for every output record, the time it
// became visible here minus the send time its input carried ("sentAt", copied into the output by every contender).
import { testClient } from '@exactly/testkit';
import type { Consumer } from 'kafkajs';
import { percentile } from './stats.js';
import { uniqueName } from './topics.js';

export class LatencyProbe {
  private readonly sentAts: number[] = [];
  private readonly latencies: number[] = [];
  /** seen[id] = 1 for every input id (the generator numbers its records 0, 1, ...) whose output was seen. */
  private seenIds = new Uint8Array(1 << 20);
  private unseenFrom = 0;

  private constructor(private readonly consumer: Consumer) {}

  /** Subscribes to `topic` from its start; resolves once the consumer has joined its group. */
  static async start(brokers: string, topic: string): Promise<LatencyProbe> {
    const consumer = testClient(brokers, 'exactly-bench-probe').consumer({
      groupId: uniqueName('probe'),
      readUncommitted: false,
      // The broker answers a fetch as soon as committed data is there; this only bounds an idle wait.
      maxWaitTimeInMs: 100,
    });
    const probe = new LatencyProbe(consumer);
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const seenAt = Date.now();
        for (const message of batch.messages) {
          const value = message.value;
          const sentAt = value ? numberField(value, SENT_AT) : undefined;
          if (!value || sentAt === undefined) continue;
          probe.sentAts.push(sentAt);
          probe.latencies.push(seenAt - sentAt);
          const id = numberField(value, ID);
          if (id !== undefined) probe.markSeen(id);
        }
        while (probe.seenIds[probe.unseenFrom] === 1) probe.unseenFrom++;
      },
    });
    await joined;
    return probe;
  }

  private markSeen(id: number): void {
    if (id >= this.seenIds.length) {
      const grown = new Uint8Array(Math.max(2 * this.seenIds.length, id + 1));
      grown.set(this.seenIds);
      this.seenIds = grown;
    }
    this.seenIds[id] = 1;
  }

  /** The outputs of input records 0 .. n-1 have all been seen: n, the first input id not yet seen. */
  get allSeenBelow(): number {
    return this.unseenFrom;
  }

  /** Output records seen so far. */
  get seen(): number {
    return this.latencies.length;
  }

  /**
   * The median latency (ms) of the records that became visible here at or after `from` and before `to`
   * (Date.now() times), or undefined if none did. Records arrive in order of visibility: the scan starts at the end.
   */
  medianLatencySeenBetween(from: number, to: number): number | undefined {
    const latencies: number[] = [];
    for (let i = this.latencies.length - 1; i >= 0; i--) {
      const latency = this.latencies[i] ?? 0;
      const seenAt = (this.sentAts[i] ?? 0) + latency;
      if (seenAt < from) break;
      if (seenAt < to) latencies.push(latency);
    }
    latencies.sort((a, b) => a - b);
    return latencies.length === 0 ? undefined : percentile(latencies, 50);
  }

  /** Latencies (ms) of the records sent at or after `from` and before `to`. */
  latenciesBetween(from: number, to: number): number[] {
    return this.latencies.filter((_, i) => {
      const sentAt = this.sentAts[i] ?? 0;
      return sentAt >= from && sentAt < to;
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

const SENT_AT = Buffer.from('"sentAt":');
const ID = Buffer.from('"id":');
const SPACE = 0x20;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * A whole number field of an output's JSON value (`"name":` given as bytes), read in place: parsing every 1 KB
 * value whole (as this reader once did) kept the benchmark's event loop busy at the latency phase's rates, and
 * delayed what it measured.
 */
function numberField(value: Buffer, name: Buffer): number | undefined {
  const at = value.indexOf(name);
  if (at < 0) return undefined;
  let i = at + name.length;
  while (value[i] === SPACE) i++;
  const first = i;
  let number = 0;
  for (let digit = value[i] ?? -1; digit >= ZERO && digit <= NINE; digit = value[++i] ?? -1)
    number = number * 10 + digit - ZERO;
  return i > first ? number : undefined;
}
