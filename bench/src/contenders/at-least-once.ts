// Contender "at-least-once": what a user writes by hand with the same client library (KafkaJS): a consumer,
// an idempotent producer, offsets committed after the outputs are acknowledged. No transactions.
// Same workload: parse a 1 KB JSON record, emit one record to each of two output topics.
import { Kafka, logLevel, Partitioners } from 'kafkajs';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (pnpm bench sets it)`);
  return value;
};

const kafka = new Kafka({
  clientId: 'bench-alo',
  brokers: env('BENCH_BROKERS').split(','),
  logLevel: logLevel.NOTHING,
});
const producer = kafka.producer({
  idempotent: true,
  maxInFlightRequests: 1,
  createPartitioner: Partitioners.DefaultPartitioner,
});
const consumer = kafka.consumer({ groupId: env('BENCH_GROUP'), maxBytesPerPartition: 1024 * 1024 });
const [left, right] = [env('BENCH_LEFT'), env('BENCH_RIGHT')];

await producer.connect();
await consumer.connect();
await consumer.subscribe({ topic: env('BENCH_INPUT'), fromBeginning: true });
await consumer.run({
  autoCommit: false,
  partitionsConsumedConcurrently: 64,
  eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary }) => {
    const lefts = [];
    const rights = [];
    for (const message of batch.messages) {
      const value = JSON.parse(message.value?.toString() ?? 'null') as { id: number };
      lefts.push({ key: message.key, value: JSON.stringify(value) });
      rights.push({ key: message.key, value: JSON.stringify({ id: value.id }) });
    }
    // Chunks below the broker's 1 MB message limit, as the runtime does.
    for (let i = 0; i < lefts.length; i += 700) {
      await producer.sendBatch({
        acks: -1,
        topicMessages: [
          { topic: left, messages: lefts.slice(i, i + 700) },
          { topic: right, messages: rights.slice(i, i + 700) },
        ],
      });
    }
    const last = batch.messages[batch.messages.length - 1];
    if (last) resolveOffset(last.offset);
    await commitOffsetsIfNecessary({
      topics: [
        {
          topic: batch.topic,
          partitions: [{ partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() }],
        },
      ],
    });
  },
});
const stop = async () => {
  await consumer.disconnect();
  await producer.disconnect();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
