import { dedupChangelogTopic, defineProcessor, json, string, topic } from '@exactly/core';
import { exchange, queue } from '@exactly/rabbitmq';
import { describe, expect, it } from 'vitest';
import { FakeAmqp } from './fake/fake-amqp.js';
import { FakeKafka } from './fake/fake-kafka.js';
import { range, runOnFake, until } from './fake/run-on-fake.js';

// A queue input's paths through the queue engine and the transaction owner (docs/rabbitmq.md), on an in-memory
// Kafka and an in-memory RabbitMQ that lose channels and acknowledgements where a test says: what committed, what
// was acknowledged, what was published. The same paths run on a real Kafka and RabbitMQ in packages/rabbitmq/test
// and in `pnpm chaos --rabbitmq`.

const ID = 'orders-in';
const TRANSACTIONAL_ID = `${ID}.queue.orders`;

function setUp(count: number) {
  const kafka = new FakeKafka();
  for (const name of [`${ID}.out`, `${ID}.dlq`]) kafka.createTopic(name, 1);
  kafka.createTopic(dedupChangelogTopic(ID, 'orders'), 1);
  const amqp = new FakeAmqp();
  amqp.enqueue(range(count).map((n) => ({ id: `m-${n}`, value: { n } })));
  const processor = defineProcessor({
    id: ID,
    input: queue('orders', { value: json<{ n: number }>() }),
    outputs: {
      out: topic(`${ID}.out`, { key: string(), value: json<{ n: number }>() }),
      notify: exchange('notifications', { value: json<{ n: number }>() }),
    },
    handle: (record) => {
      if (record.value.n < 0) throw new Error('negative');
      return { out: [{ key: record.messageId, value: record.value }], notify: [{ value: record.value }] };
    },
  });
  const keys = () =>
    kafka
      .read(`${ID}.out`)
      .map((r) => r.key?.toString() ?? '')
      .sort();
  const expected = (n: number) =>
    range(n)
      .map((i) => `m-${i}`)
      .sort();
  const start = () => runOnFake(kafka, 'partition', processor, { maxBatchRecords: 10 }, undefined, amqp);
  return { kafka, amqp, processor, keys, expected, start };
}

describe('a queue input (fake Kafka, fake RabbitMQ)', () => {
  it('each message once in Kafka, acknowledged after its commit; the queue is emptied', async () => {
    const { amqp, keys, expected, start } = setUp(95);
    const running = await start();
    try {
      await until(() => amqp.acknowledged === 95, '95 acknowledged');
      expect(keys()).toEqual(expected(95));
      expect(amqp.left).toBe(0);
      expect(new Set(amqp.published.map((m) => m.messageId)).size).toBe(95);
    } finally {
      await running.stop();
    }
  });

  it('committed, not acknowledged (the channel lost first): delivered again, recognised, acknowledged, not redone', async () => {
    const { kafka, amqp, keys, expected, start } = setUp(60);
    let acks = 0;
    amqp.onAck = () => ++acks !== 2; // the second batch's acknowledgement is lost with its channel
    const running = await start();
    try {
      await until(() => amqp.left === 0, 'the queue emptied');
      expect(keys()).toEqual(expected(60));
      expect((await running.metrics()).queueDuplicates).toBe(10);
      // The new subscription took the producer again (fencing whoever had it) and read the window back.
      expect(kafka.inits(TRANSACTIONAL_ID)).toBe(2);
      expect(amqp.subscriptions).toBe(2);
    } finally {
      await running.stop();
    }
  });

  it('a zombie: taken over while its batch is in hand, it is fenced and commits nothing; the new consumer does it once', async () => {
    const { kafka, amqp, keys, expected, start } = setUp(40);
    let taken = false;
    kafka.before('commit', () => {
      if (taken) return;
      taken = true;
      // Paused past its heartbeat: RabbitMQ closed its channel, another instance took the queue and its producer.
      amqp.closeActive();
      kafka.fence(TRANSACTIONAL_ID);
    });
    const running = await start();
    try {
      await until(() => amqp.left === 0, 'the queue emptied');
      expect(keys()).toEqual(expected(40));
      expect(kafka.aborted(`${ID}.out`)).toHaveLength(10); // the zombie's batch: written, never visible
      expect((await running.metrics()).transactionsAborted).toBeGreaterThanOrEqual(1);
    } finally {
      await running.stop();
    }
  });

  it('a resumed zombie whose channel the broker closed does not take the producer back from the active consumer', async () => {
    const { kafka, amqp, keys, expected, processor } = setUp(20);
    const options = { maxBatchRecords: 10 };
    const zombie = await runOnFake(kafka, 'partition', processor, options, undefined, amqp);
    let active: Awaited<ReturnType<typeof runOnFake>> | undefined;
    try {
      await until(() => amqp.acknowledged >= 20, 'the first instance active');
      active = await runOnFake(kafka, 'partition', processor, options, undefined, amqp); // a standby
      let commits = 0;
      kafka.before('commit', () => {
        if (++commits !== 4) return;
        // Paused past its heartbeat: the broker gave the queue to the standby; this commit fails (its transaction
        // outlived its timeout), and the process hears of the closed connection only 2 s later.
        amqp.closeActiveSilently(2_000);
        kafka.failNext('commit', 'abortable');
      });
      amqp.enqueue(range(180, 20).map((n) => ({ id: `m-${n}`, value: { n } })));
      await until(() => amqp.left === 0 && amqp.acknowledged === 200, 'the queue emptied');
      // The zombie hears of its closed channel and subscribes again, as a standby.
      await until(() => amqp.subscriptions === 3, 'the zombie subscribed again', 5_000);
      expect(keys()).toEqual(expected(200));
      // Each took the producer once when it became active; the zombie never took it again.
      expect(kafka.inits(TRANSACTIONAL_ID)).toBe(2);
      expect((await active.metrics()).transactionsAborted).toBe(0);
    } finally {
      await active?.stop();
      await zombie.stop();
    }
  });

  it('an exchange message no queue takes: its input becomes a dead letter; the others are published again with the same ids', async () => {
    const { kafka, amqp, keys, start } = setUp(20);
    amqp.unroutable = (message) => message.messageId === `${ID}/orders/m-7/notify/0`;
    const running = await start();
    try {
      await until(() => amqp.left === 0, 'the queue emptied');
      expect(keys()).toEqual(
        range(20)
          .filter((n) => n !== 7)
          .map((n) => `m-${n}`)
          .sort(),
      );
      const dead = kafka.read(`${ID}.dlq`);
      expect(dead.map((r) => r.headers['exactly.source.message-id'])).toEqual(['m-7']);
      expect(String(dead[0]?.headers['exactly.error.message'])).toContain('routed the message to no queue');
      const ids = amqp.published.map((m) => m.messageId);
      expect(new Set(ids).size).toBe(19);
      expect(ids.length).toBeGreaterThan(19); // the first attempt's messages were published, then again
    } finally {
      await running.stop();
    }
  });

  it('a publish that fails (the channel lost) aborts the batch; the redo publishes the same ids, Kafka has each once', async () => {
    const { amqp, keys, expected, start } = setUp(30);
    amqp.failPublishes = 1;
    const running = await start();
    try {
      await until(() => amqp.left === 0, 'the queue emptied');
      expect(keys()).toEqual(expected(30));
      expect(new Set(amqp.published.map((m) => m.messageId)).size).toBe(30);
    } finally {
      await running.stop();
    }
  });

  it('a message without an id, and one the handler refuses: dead letters with the reason, acknowledged', async () => {
    const { kafka, amqp, keys, start } = setUp(5);
    amqp.enqueue([
      { id: undefined, value: { n: 5 } },
      { id: 'm-bad', value: { n: -1 } },
    ]);
    const running = await start();
    try {
      await until(() => amqp.left === 0, 'the queue emptied');
      expect(keys()).toHaveLength(5);
      const reasons = kafka.read(`${ID}.dlq`).map((r) => String(r.headers['exactly.error.message']));
      expect(reasons).toEqual([
        'handler threw: negative',
        'the message has no id: publish it with the message_id property, or give queue(name, { messageId: (message) => ... })',
      ]);
    } finally {
      await running.stop();
    }
  });
});
