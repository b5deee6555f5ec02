// The latency phase's reader: a read_committed consumer of LEFT that notes, for every output record, the time it
// became visible here minus the send time its input carried ("sentAt", copied into the output by every contender).
import { testClient } from '@exactly/testkit';
import type { Consumer } from 'kafkajs';
import { uniqueName } from './topics.js';

export class LatencyProbe {
  private readonly sentAts: number[] = [];
  private readonly latencies: number[] = [];

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
          const sentAt = message.value ? sentAtOf(message.value) : undefined;
          if (sentAt === undefined) continue;
          probe.sentAts.push(sentAt);
          probe.latencies.push(seenAt - sentAt);
        }
      },
    });
    await joined;
    return probe;
  }

  /** Output records seen so far. */
  get seen(): number {
    return this.latencies.length;
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
const SPACE = 0x20;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * The "sentAt" number of an output's JSON value, read in place: parsing every 1 KB value whole (as this reader
 * once did) kept the benchmark's event loop busy at the latency phase's rates, and delayed what it measured.
 */
export function sentAtOf(value: Buffer): number | undefined {
  const at = value.indexOf(SENT_AT);
  if (at < 0) return undefined;
  let i = at + SENT_AT.length;
  while (value[i] === SPACE) i++;
  const first = i;
  let sentAt = 0;
  for (let digit = value[i] ?? -1; digit >= ZERO && digit <= NINE; digit = value[++i] ?? -1)
    sentAt = sentAt * 10 + digit - ZERO;
  return i > first ? sentAt : undefined;
}
