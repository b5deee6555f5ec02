// The rate generator's sending loop, on a thread of its own: sharing the benchmark's event loop with the reader,
// both saturated it at the latency phase's rates (busy 100%, the rate not reached, sends and reads delayed).
// @platformatic/kafka, not KafkaJS: KafkaJS alone took ~0.8 of a core for ~24,000 records/s on this 2-core
// machine, which the broker and the contender share.
// Messages in: { rate } and { stop }; out: { ready }, { batch: [send time, records] }, { stopped }, { failed }.
import { setTimeout as delay } from 'node:timers/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { Producer, stringSerializers } from '@platformatic/kafka';
import { keyedPartition } from '../../packages/runtime/src/adapters/murmur2.js';

export interface GeneratorStart {
  readonly brokers: string;
  readonly topic: string;
  readonly rate: number;
}
export type ToGenerator = { readonly rate: number } | { readonly stop: true };
export type FromGenerator =
  | { readonly ready: true }
  | { readonly batch: readonly [number, number] }
  | { readonly stopped: true }
  | { readonly failed: string };

const TICK_MS = 10;
/** Sends still unanswered before a tick is skipped (its records then go with the next one). */
const MAX_IN_FLIGHT = 32;
/**
 * Records per send: ~500 KB, under the broker's default message.max.bytes (1 MB) even when all go to one partition.
 * One send of a whole backlog once failed a full run with MESSAGE_TOO_LARGE (6 partitions, 32,000 records/s).
 */
const MAX_RECORDS_PER_SEND = 500;
const PAD = 'x'.repeat(980); // with id and sentAt: ~1 KB, like the throughput phase's records

const port = parentPort;
if (!port) throw new Error('rate-generator-thread runs as a worker thread');
const { brokers, topic, rate } = workerData as GeneratorStart;
const post = (message: FromGenerator) => port.postMessage(message);

/** The current rate, since `since` (performance.now()) when `sentBefore` records had been sent. */
let pace = { rate, since: performance.now(), sentBefore: 0 };
let sent = 0;
let stopped = false;
let failure: unknown;
port.on('message', (message: ToGenerator) => {
  if ('rate' in message) pace = { rate: message.rate, since: performance.now(), sentBefore: sent };
  else stopped = true;
});

const producer = new Producer({
  clientId: 'exactly-bench-rate',
  bootstrapBrokers: brokers.split(','),
  acks: -1,
  serializers: stringSerializers,
  // The Java client's partitioner (murmur2 of the key), as KafkaJS's default was.
  partitioner: (_message, key) => (key ? keyedPartition(key) : 0),
});
try {
  await producer.metadata({ topics: [topic] });
  post({ ready: true });
  const inFlight = new Set<Promise<void>>();
  while (!stopped && !failure) {
    let due = pace.sentBefore + Math.floor(((performance.now() - pace.since) / 1000) * pace.rate) - sent;
    // A backlog (the broker slow to answer) goes out in several sends, each under the broker's message size.
    while (due > 0 && inFlight.size < MAX_IN_FLIGHT) {
      const count = Math.min(due, MAX_RECORDS_PER_SEND);
      due -= count;
      const send: Promise<void> = sendRecords(count).then(
        () => void inFlight.delete(send),
        (error: unknown) => {
          failure = error;
        },
      );
      inFlight.add(send);
    }
    await delay(TICK_MS);
  }
  await Promise.all(inFlight);
  await producer.close();
  post(failure ? { failed: String(failure) } : { stopped: true });
} catch (error) {
  post({ failed: String(error) });
}
port.close();

function sendRecords(count: number): Promise<unknown> {
  const sentAt = Date.now();
  const messages = [];
  for (let id = sent; id < sent + count; id++)
    messages.push({ topic, key: `key-${id}`, value: `{"id":${id},"sentAt":${sentAt},"pad":"${PAD}"}` });
  sent += count;
  post({ batch: [sentAt, count] });
  return producer.send({ messages });
}
