// `pnpm bench --rabbitmq`, contender (b): the at-least-once bridge one writes by hand on the same clients, amqplib
// and @platformatic/kafka (the runtime's default Kafka client): a non-transactional idempotent producer with
// acks=all; a consumer with the queue input's prefetch (2 x 5000); per batch (what has arrived, up to 5000), the
// records sent, then, once the send has resolved, the batch acknowledged with one basic.ack (multiple=true).

import { ProduceAcks, Producer } from '@platformatic/kafka';
import amqplib, { type ConsumeMessage } from 'amqplib';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (pnpm bench --rabbitmq sets it)`);
  return value;
};

const MAX_BATCH = 5000; // the runtime's default maxBatchRecords
const CHUNK = 700; // records per send: below the broker's 1 MB batch limit, as the KafkaJS baseline does
const left = env('BENCH_LEFT');

const producer = new Producer({
  clientId: 'bench-rabbitmq-bridge',
  bootstrapBrokers: env('BENCH_BROKERS').split(','),
  idempotent: true,
  acks: ProduceAcks.ALL,
});
const connection = await amqplib.connect(env('BENCH_RABBITMQ'));
const channel = await connection.createChannel();
await channel.prefetch(2 * MAX_BATCH);

let buffer: ConsumeMessage[] = [];
let wake: (() => void) | undefined;
let stopping = false;
await channel.consume(env('BENCH_QUEUE'), (message) => {
  if (message === null) return;
  buffer.push(message);
  wake?.();
});

const loop = (async () => {
  while (!stopping) {
    if (buffer.length === 0) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
      continue;
    }
    const batch = buffer.slice(0, MAX_BATCH);
    buffer = buffer.slice(batch.length);
    const messages = batch.map((m) => {
      const value = JSON.parse(m.content.toString()) as { id: number };
      return { topic: left, key: Buffer.from(String(value.id)), value: Buffer.from(JSON.stringify(value)) };
    });
    for (let i = 0; i < messages.length; i += CHUNK) await producer.send({ messages: messages.slice(i, i + CHUNK) });
    const last = batch[batch.length - 1];
    if (last) channel.ack(last, true);
  }
})();

const stop = async () => {
  stopping = true;
  wake?.();
  await loop.catch(() => {});
  await connection.close().catch(() => {});
  await producer.close().catch(() => {});
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
