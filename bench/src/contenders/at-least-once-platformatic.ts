// Contender "at-least-once (platformatic)": what a user writes by hand with @platformatic/kafka, the client of
// Exactly's default adapter: a consumer, an idempotent producer (acks=all), offsets committed after the outputs
// are acknowledged. No transactions. Fetches sized as Exactly's are (256 KB or 100 ms), batches of up to 5,000.
// Same workload: parse a 1 KB JSON record, emit one record to each of two output topics.
import {
  Consumer,
  type Message,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  Producer,
} from '@platformatic/kafka';
import { keyedPartition } from '../../../packages/runtime/src/adapters/murmur2.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (pnpm bench sets it)`);
  return value;
};

const bootstrapBrokers = env('BENCH_BROKERS').split(',');
const [input, left, right] = [env('BENCH_INPUT'), env('BENCH_LEFT'), env('BENCH_RIGHT')];
const producer = new Producer({
  clientId: 'bench-alo-platformatic',
  bootstrapBrokers,
  idempotent: true,
  acks: -1,
  // The Java client's partitioner, as Exactly's adapter uses (murmur2 of the key).
  partitioner: (_message, key) => (key ? keyedPartition(key) : 0),
});
const consumer = new Consumer({
  clientId: 'bench-alo-platformatic',
  groupId: env('BENCH_GROUP'),
  bootstrapBrokers,
  autocommit: false,
  minBytes: 256 * 1024,
  maxWaitTime: 100,
  maxBytes: 4 * 1024 * 1024,
  maxBytesPerPartition: 256 * 1024,
});
const stream = await consumer.consume({
  topics: [input],
  mode: MessagesStreamModes.COMMITTED,
  fallbackMode: MessagesStreamFallbackModes.EARLIEST,
});

let pending: Message[] = [];
let flushing: Promise<void> = Promise.resolve();

/** Writes the batch's outputs (chunks below the 1 MB request limit, as Exactly does), then commits its offsets. */
async function flush(batch: Message[]): Promise<void> {
  const outputs = [];
  const next = new Map<number, Message>();
  for (const message of batch) {
    const value = JSON.parse(message.value.toString()) as { id: number };
    outputs.push({ topic: left, key: message.key, value: Buffer.from(JSON.stringify(value)) });
    outputs.push({ topic: right, key: message.key, value: Buffer.from(JSON.stringify({ id: value.id })) });
    next.set(message.partition, message);
  }
  for (let i = 0; i < outputs.length; i += 1400) await producer.send({ messages: outputs.slice(i, i + 1400) });
  await consumer.commit({
    offsets: [...next.values()].map((m) => ({
      topic: m.topic,
      partition: m.partition,
      offset: m.offset + 1n,
      leaderEpoch: m.leaderEpoch,
    })),
  });
}

const flushNow = () => {
  if (pending.length === 0) return;
  const batch = pending;
  pending = [];
  flushing = flushing.then(() => flush(batch));
  // Back-pressure: no more fetching while a batch is on its way.
  stream.pause();
  void flushing.then(() => stream.resume());
};
stream.on('data', (message: Message) => {
  pending.push(message);
  if (pending.length >= 5000) flushNow();
});
const timer = setInterval(flushNow, 100);

const stop = async () => {
  clearInterval(timer);
  await stream.close();
  flushNow();
  await flushing;
  await consumer.close();
  await producer.close();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
