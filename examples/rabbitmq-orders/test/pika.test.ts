import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { run } from '@exactly/runtime';
import { pythonWithPika, type RabbitMQ, readTopic, startRabbitMQ, uniqueTopic } from '@exactly/testkit';
import { connect } from 'amqplib';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { ordersIn } from '../src/processor.js';

/**
 * Interop with a client no one here wrote: Python's pika publishes as RabbitMQ's tutorial does (queue_declare,
 * basic_publish with a message_id), Exactly moves the orders into Kafka, a read_committed reader counts them.
 * pika comes from a virtual environment in the tools cache (pythonWithPika: made on first use, as .ci/run does).
 */
const brokers = inject('kafkaBrokers');
const publisher = fileURLToPath(new URL('../src/publish.py', import.meta.url));
let rabbit: RabbitMQ;

beforeAll(async () => {
  rabbit = await startRabbitMQ();
}, 60_000);

afterAll(async () => {
  await rabbit?.stop();
});

test('orders published with pika land in Kafka once each, and their notifications on the exchange', async () => {
  const python = await pythonWithPika();
  const suffix = `-${uniqueTopic('pika')}`;
  const processor = ordersIn(suffix);
  const model = await connect(rabbit.url);
  const channel = await model.createChannel();
  await channel.assertExchange(`notifications${suffix}`, 'topic', { durable: true });
  await channel.assertQueue(`notifications${suffix}.all`, { durable: true });
  await channel.bindQueue(`notifications${suffix}.all`, `notifications${suffix}`, 'order.#');
  const publish = (from: number) =>
    promisify(execFile)(python, [
      publisher,
      '--url',
      rabbit.url,
      '--queue',
      `orders${suffix}`,
      '--count',
      '100',
      '--from',
      String(from),
    ]);
  await publish(0);
  // The same orders again, as a publisher retrying after a lost confirm would: their ids are known, none twice.
  await publish(50);
  const running = await run(processor, {
    brokers,
    rabbitmq: rabbit.url,
    createTopics: true,
    provenance: true,
    logLevel: 'silent',
  });
  try {
    const records = await readTopic(brokers, `orders${suffix}`, { minRecords: 150, timeoutMs: 30_000 });
    const keys = records.map((r) => r.key?.toString() ?? '');
    expect(new Set(keys).size).toBe(150);
    expect(keys.length).toBe(150);
  } finally {
    await running.stop();
  }
  const notes: string[] = [];
  for (
    let m = await channel.get(`notifications${suffix}.all`);
    m;
    m = await channel.get(`notifications${suffix}.all`)
  ) {
    notes.push(String(m.properties.messageId));
    channel.ack(m);
  }
  await model.close();
  expect(new Set(notes).size).toBe(150);
  expect(notes.every((id) => id.startsWith(`orders-in${suffix}/orders${suffix}/order-`))).toBe(true);
});
