import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defineProcessor, json, string, topic } from '@exactly/core';
import { exchange } from '@exactly/rabbitmq';
import { run } from '@exactly/runtime';
import {
  createTopics,
  type RabbitMQ,
  readTopic,
  startRabbitMQ,
  testClient,
  uniqueTopic,
  waitUntil,
} from '@exactly/testkit';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { CLIENTS } from '../../runtime/test/helpers.js';
import { TestBroker } from './fixtures/broker.js';
import { type Order, ordersProcessor } from './fixtures/orders.js';

/**
 * A RabbitMQ queue as input and an exchange as output, through run() on a real Kafka and a real RabbitMQ, with
 * both clients. Checked by independent readers: a read_committed consumer of the topics, and a queue bound to the
 * exchange read with the test's own AMQP client.
 */
const brokers = inject('kafkaBrokers');
const root = fileURLToPath(new URL('../../../', import.meta.url));
let rabbit: RabbitMQ;
let broker: TestBroker;

beforeAll(async () => {
  rabbit = await startRabbitMQ();
  broker = await TestBroker.connect(rabbit.url);
}, 60_000);

afterAll(async () => {
  await broker?.close();
  await rabbit?.stop();
});

/** Fresh names for one test: a processor id, its queue, and its watched exchange. */
async function fresh(name: string) {
  const id = uniqueTopic(name);
  const names = { id, queue: `${id}.orders`, exchange: `${id}.notifications` };
  await broker.declareQueue(names.queue);
  const watch = await broker.declareWatchedExchange(names.exchange);
  return { names, watch, processor: ordersProcessor(names) };
}

const orders = (n: number, from = 0): Array<{ id: string; body: Order }> =>
  Array.from({ length: n }, (_, i) => ({ id: `o-${from + i}`, body: { id: `o-${from + i}`, total: from + i } }));

/** Keys of the read_committed records of `topicName`, sorted. */
async function keysOf(topicName: string, count: number): Promise<string[]> {
  const records = await readTopic(brokers, topicName, { minRecords: count, timeoutMs: 30_000 });
  return records.map((r) => r.key?.toString() ?? '').sort();
}

describe.each(CLIENTS)('a RabbitMQ queue as input, with the %s client (real Kafka, real RabbitMQ)', (client) => {
  const options = { brokers, client, rabbitmq: '', createTopics: true, commitIntervalMs: 20, maxBatchRecords: 50 };
  const settings = () => ({
    ...options,
    rabbitmq: rabbit.url,
    logLevel: (process.env.TEST_LOG_LEVEL ?? 'silent') as 'silent',
  });

  test('each message once in Kafka, bad ones as dead letters, each notification with its stable id, the queue emptied', async () => {
    const { names, watch, processor } = await fresh('rmq-once');
    const good = orders(300);
    const [o3, o4] = [good[3] as (typeof good)[number], good[4] as (typeof good)[number]];
    const bad = { id: 'o-bad', body: { id: 'o-bad', total: -1 } };
    const unroutable = { id: 'o-nowhere', body: { id: 'o-nowhere', total: 1, route: 'elsewhere' } };
    const noId = { id: undefined, body: { id: 'o-anonymous', total: 1 } };
    // A publisher that retries: o-3 and o-4 arrive twice, with their ids.
    await broker.publish(names.queue, [...good.slice(0, 100), bad, noId, o3, o4, unroutable, ...good.slice(100)]);
    const running = await run(processor, settings());
    try {
      expect(await keysOf(`${names.id}.orders`, 300)).toEqual(good.map((o) => o.id).sort());
      const dead = await readTopic(brokers, `${names.id}.dlq`, { minRecords: 3, timeoutMs: 30_000 });
      const reasons = dead
        .map((r) => `${r.headers['exactly.source.message-id']}: ${r.headers['exactly.error.message']}`)
        .sort();
      expect(reasons).toEqual([
        ': the message has no id: publish it with the message_id property, or give queue(name, { messageId: (message) => ... })',
        'o-bad: handler threw: order o-bad has a negative total',
        expect.stringMatching(
          /^o-nowhere: RabbitMQ: exchange '.*' routed the message with routing key 'elsewhere' to no queue/,
        ),
      ]);
      await waitUntil(
        async () => (await running.metrics()).queueAcknowledged === 305,
        'all 305 deliveries acknowledged',
        30_000,
      );
      const metrics = await running.metrics();
      expect(metrics.queueDuplicates).toBe(2);
      expect(metrics.queueUnacknowledged).toBe(0);
    } finally {
      await running.stop();
    }
    expect(await broker.ready(names.queue)).toBe(0);
    const notes = await broker.drain(watch);
    // At least once, with ids stable per input: distinct ids, one per order, each derived from its message id.
    const byId = new Map(notes.map((n) => [n.messageId, n.body]));
    expect([...byId.keys()].sort()).toEqual(good.map((o) => `${names.id}/${names.queue}/${o.id}/notify/0`).sort());
  });

  test('a crash after Kafka commit, before the acknowledgement: the next consumer acknowledges, processes nothing twice', async () => {
    const { names, processor } = await fresh('rmq-crash');
    await broker.publish(names.queue, orders(200));
    // A first instance, in a process of its own, dies (SIGKILL) right after its first batch's commit.
    const child = spawn(
      process.execPath,
      [
        'packages/cli/dist/bin.js',
        'run',
        'packages/rabbitmq/test/fixtures/orders.ts',
        '--brokers',
        brokers,
        '--rabbitmq',
        rabbit.url,
        '--client',
        client,
        '--max-batch',
        '50',
        '--create-topics',
        '--log-level',
        'warn',
      ],
      {
        cwd: root,
        env: {
          ...process.env,
          EXACTLY_CRASH_AT: 'decided:1',
          ORDERS_ID: names.id,
          ORDERS_QUEUE: names.queue,
          ORDERS_EXCHANGE: names.exchange,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const signal = await new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, sig) => resolve(sig)),
    );
    expect(signal, stderr).toBe('SIGKILL');
    expect(stderr).toContain('EXACTLY_CRASH_AT=decided:1 reached');
    const committedBefore = await readTopic(brokers, `${names.id}.orders`, { minRecords: 1, timeoutMs: 30_000 });
    expect(committedBefore.length).toBeGreaterThan(0);
    const running = await run(processor, settings());
    try {
      expect(await keysOf(`${names.id}.orders`, 200)).toEqual(
        orders(200)
          .map((o) => o.id)
          .sort(),
      );
      // Exactly the dead instance's committed, unacknowledged batch was delivered again and recognised.
      expect((await running.metrics()).queueDuplicates).toBe(committedBefore.length);
    } finally {
      await running.stop();
    }
    expect(await broker.ready(names.queue)).toBe(0);
  });

  test('a Kafka topic to an exchange: each record published once per batch with a stable id', async () => {
    const id = uniqueTopic('rmq-fan-out');
    const watch = await broker.declareWatchedExchange(`${id}.out`, 'shipment.#');
    await createTopics(
      brokers,
      [`${id}.in`, `${id}.dlq`].map((name) => ({ name, partitions: 3 })),
    );
    const producer = testClient(brokers).producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({
      topic: `${id}.in`,
      messages: Array.from({ length: 150 }, (_, i) => ({ key: `k-${i}`, value: JSON.stringify({ n: i }) })),
    });
    await producer.disconnect();
    const processor = defineProcessor({
      id,
      input: topic(`${id}.in`, { key: string(), value: json<{ n: number }>() }),
      outputs: { shipments: exchange(`${id}.out`, { value: json<{ n: number }>(), routingKey: 'shipment.new' }) },
      handle: (record) => ({ shipments: [{ value: record.value }] }),
    });
    const running = await run(processor, settings());
    try {
      await waitUntil(async () => (await running.metrics()).recordsIn === 150, '150 records committed', 30_000);
    } finally {
      await running.stop();
    }
    const notes = await broker.drain(watch);
    const distinct = new Set(notes.map((n) => n.messageId));
    expect(distinct.size).toBe(150);
    expect(notes.length).toBeGreaterThanOrEqual(150);
    expect([...distinct].every((messageId) => /^rmq-fan-out-.*\/\d+\/\d+\/shipments\/0$/.test(messageId ?? ''))).toBe(
      true,
    );
  });
});

describe('a queue input misconfigured', () => {
  test('a queue declared without single active consumer stops the start, saying what to do', async () => {
    const { names, processor } = await fresh('rmq-no-sac');
    const plain = `${names.queue}.plain`;
    await broker.declareQueue(plain, false);
    const wrong = ordersProcessor({ ...names, queue: plain });
    expect(processor.id).toBe(wrong.id);
    await expect(run(wrong, { brokers, rabbitmq: rabbit.url, createTopics: true, logLevel: 'silent' })).rejects.toThrow(
      /queue '.*\.plain' was declared without single active consumer.*x-single-active-consumer: true/,
    );
  });

  test('a broker that does not answer within the start-up timeout stops the start, naming it', async () => {
    const processor = ordersProcessor({ id: uniqueTopic('rmq-unreachable'), queue: 'q', exchange: 'x' });
    const started = Date.now();
    await expect(
      run(processor, {
        brokers,
        rabbitmq: 'amqp://guest:secret@127.0.0.1:1/%2F',
        createTopics: true,
        startupTimeoutMs: 1_500,
        logLevel: 'silent',
      }),
    ).rejects.toThrow(/^RabbitMQ at amqp:\/\/guest@127\.0\.0\.1:1\/%2F: RabbitMQ is not reachable: .*ECONNREFUSED/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
  });

  test('a processor with a queue and no RabbitMQ URL stops before anything is reached', async () => {
    const saved = process.env.RABBITMQ_URL;
    delete process.env.RABBITMQ_URL;
    try {
      const processor = ordersProcessor({ id: 'no-url', queue: 'orders', exchange: 'notifications' });
      await expect(run(processor, { brokers: ['127.0.0.1:1'], logLevel: 'silent' })).rejects.toThrow(
        "rabbitmq: processor 'no-url' uses RabbitMQ (queue orders, exchange notifications): give the broker as run(processor, { rabbitmq: 'amqp://user:password@host:5672/vhost' }), exactly run --rabbitmq URL, or RABBITMQ_URL",
      );
    } finally {
      if (saved !== undefined) process.env.RABBITMQ_URL = saved;
    }
  });
});
