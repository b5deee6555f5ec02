import { defineProcessor, Headers, json, string, topic } from '@exactly/core';
import { MissingTopicsError, ProcessorStoppedError, run } from '@exactly/runtime';
import {
  createTopics,
  generateRecords,
  readTopic,
  testClient,
  verifyExactlyOnce,
  waitForGroupCaughtUp,
  writeInterleavedTransactions,
} from '@exactly/testkit';
import { describe, expect, inject, it } from 'vitest';
import { fanOut } from './fixtures/fan-out.js';
import { CLIENTS, freshTopics, ids, range } from './helpers.js';

const brokers = inject('kafkaBrokers');

describe.each(CLIENTS)('runtime on a real broker with %s (checked with a read_committed reader)', (client) => {
  const quiet = { logLevel: 'silent' as const, provenance: true, brokers, client };

  it('fan-out: each input appears once on both output topics, atomically', async () => {
    const topics = await freshTopics(brokers, 'fanout', 3);
    await generateRecords({ brokers, topic: topics.input, count: 3000 });
    const app = await run(fanOut(topics), quiet);
    try {
      await waitForGroupCaughtUp(brokers, topics.id, topics.input);
    } finally {
      await app.stop();
    }
    const left = await readTopic(brokers, topics.left);
    const right = await readTopic(brokers, topics.right);
    expect(ids(left)).toEqual(range(3000));
    expect(ids(right)).toEqual(range(3000));
    const verdict = await verifyExactlyOnce({ brokers, input: topics.input, outputs: [topics.left, topics.right] });
    expect(verdict).toMatchObject({
      ok: true,
      inputs: 3000,
      missing: 0,
      duplicated: 0,
      orphans: 0,
      orderViolations: 0,
      abortedRead: 0,
    });
    const metrics = await app.metrics();
    expect(metrics.recordsIn).toBe(3000);
    expect(metrics.recordsOut).toBe(6000);
    expect(metrics.transactionsCommitted).toBeGreaterThan(0);
  });

  it('poison pills go to the dead-letter topic with their reason, in the same transaction; the rest go on', async () => {
    const topics = await freshTopics(brokers, 'poison', 2);
    await generateRecords({ brokers, topic: topics.input, count: 200 });
    const producer = testClient(brokers).producer();
    await producer.connect();
    await producer.send({
      topic: topics.input,
      messages: [
        { key: 'bad-json', value: '{not json' },
        { key: 'bad-utf8', value: Buffer.from([0xff, 0xfe]) },
      ],
    });
    await producer.disconnect();

    const app = await run(fanOut(topics, { throwOn: new Set([7, 42]) }), quiet);
    try {
      await waitForGroupCaughtUp(brokers, topics.id, topics.input);
    } finally {
      await app.stop();
    }
    const expected = range(200).filter((id) => id !== 7 && id !== 42);
    expect(ids(await readTopic(brokers, topics.left))).toEqual(expected);
    expect(ids(await readTopic(brokers, topics.right))).toEqual(expected);
    const dead = await readTopic(brokers, topics.dlq);
    const byKey = new Map(dead.map((r) => [r.key?.toString(), r]));
    expect([...byKey.keys()].sort()).toEqual(['bad-json', 'bad-utf8', 'key-42', 'key-7']);
    expect(byKey.get('key-7')?.headers[Headers.errorKind]).toBe('handler');
    expect(byKey.get('key-7')?.headers[Headers.errorMessage]).toMatch(/refusing item 7/);
    expect(byKey.get('bad-json')?.headers[Headers.errorKind]).toBe('decode');
    expect(byKey.get('bad-json')?.value?.toString()).toBe('{not json'); // the original bytes, untouched
    expect(byKey.get('bad-utf8')?.headers[Headers.errorMessage]).toMatch(/utf-8/i);
    for (const record of dead) {
      expect(record.headers[Headers.sourceTopic]).toBe(topics.input);
      expect(record.headers[Headers.sourceOffset]).toMatch(/^\d+$/);
    }
    expect((await app.metrics()).deadLetters).toBe(4);
  });

  it('an input written in transactions: no record of an aborted one is processed (chained processors)', async () => {
    const topics = await freshTopics(brokers, 'chained', 2);
    const item = (id: number) => ({ key: `key-${id}`, value: JSON.stringify({ id }) });
    for (const partition of [0, 1]) {
      const committed = range(10, partition * 100).map(item);
      const aborted = range(40, 1000 + partition * 100).map(item);
      await writeInterleavedTransactions({ brokers, topic: topics.input, committed, aborted, partition });
    }
    const app = await run(fanOut(topics), quiet);
    try {
      await waitForGroupCaughtUp(brokers, topics.id, topics.input);
    } finally {
      await app.stop();
    }
    const expected = [...range(10), ...range(10, 100)];
    expect(ids(await readTopic(brokers, topics.left))).toEqual(expected);
    expect(ids(await readTopic(brokers, topics.right))).toEqual(expected);
    expect((await app.metrics()).recordsIn).toBe(20);
  });

  it("onError 'stop' commits everything before the bad record and nothing after it", async () => {
    const topics = await freshTopics(brokers, 'stop', 1);
    await generateRecords({ brokers, topic: topics.input, count: 100 });
    const base = fanOut(topics, { throwOn: new Set([60]) });
    const app = await run({ ...base, onError: 'stop' }, quiet);
    await expect(app.done).rejects.toBeInstanceOf(ProcessorStoppedError);
    expect(ids(await readTopic(brokers, topics.left))).toEqual(range(60));
    expect(ids(await readTopic(brokers, topics.right))).toEqual(range(60));
    expect(await readTopic(brokers, topics.dlq)).toEqual([]);
    const admin = testClient(brokers).admin();
    await admin.connect();
    const [committed] = await admin.fetchOffsets({ groupId: topics.id, topics: [topics.input] });
    await admin.disconnect();
    expect(committed?.partitions[0]?.offset).toBe('60');
  });

  /** A processor whose output for input `id` is keyed `key(id)` and padded with `padBytes(id)` characters. */
  const padded = (
    topics: { id: string; input: string; left: string },
    shape: { padBytes?: (id: number) => number; key?: (id: number) => string | null },
  ) =>
    defineProcessor({
      id: topics.id,
      input: topic(topics.input, { key: string(), value: json<{ id: number }>() }),
      outputs: { left: topic(topics.left, { key: string(), value: json<{ id: number; pad: string }>() }) },
      handle: ({ key, value }) => ({
        left: [
          {
            key: shape.key ? shape.key(value.id) : key,
            value: { id: value.id, pad: 'x'.repeat(shape.padBytes?.(value.id) ?? 0) },
          },
        ],
      }),
    });

  it("an output larger than its topic's max.message.bytes: its input is dead-lettered with the sizes; the rest go on", async () => {
    const topics = await freshTopics(brokers, 'too-large', 2);
    await generateRecords({ brokers, topic: topics.input, count: 40 });
    const processor = padded(topics, { padBytes: (id) => (id === 5 ? 2 * 1024 * 1024 : 10) });
    const app = await run(processor, quiet);
    try {
      await waitForGroupCaughtUp(brokers, topics.id, topics.input);
    } finally {
      await app.stop();
    }
    expect(ids(await readTopic(brokers, topics.left))).toEqual(range(40).filter((id) => id !== 5));
    const dead = await readTopic(brokers, topics.dlq);
    expect(dead.map((r) => r.key?.toString())).toEqual(['key-5']);
    expect(dead[0]?.headers[Headers.errorKind]).toBe('encode');
    expect(dead[0]?.headers[Headers.errorMessage]).toMatch(
      new RegExp(`left\\[0\\] for topic ${topics.left} is 2097\\d{3} bytes; the topic accepts at most 1048588`),
    );
    expect((await app.metrics()).transactionsAborted).toBe(0); // caught before sending
  });

  it('a record the broker refuses anyway (no key on a compacted topic) is found and dead-lettered; the rest go on', async () => {
    const topics = await freshTopics(brokers, 'refused', 1);
    const compacted = `${topics.id}.compacted`;
    await createTopics(brokers, [{ name: compacted, config: { 'cleanup.policy': 'compact' } }]);
    await generateRecords({ brokers, topic: topics.input, count: 30 });
    const processor = padded({ ...topics, left: compacted }, { key: (id) => (id === 7 ? null : `key-${id}`) });
    const app = await run(processor, quiet);
    try {
      await waitForGroupCaughtUp(brokers, topics.id, topics.input);
    } finally {
      await app.stop();
    }
    expect(ids(await readTopic(brokers, compacted))).toEqual(range(30).filter((id) => id !== 7));
    const dead = await readTopic(brokers, topics.dlq);
    expect(dead.map((r) => r.key?.toString())).toEqual(['key-7']);
    expect(dead[0]?.headers[Headers.errorMessage]).toMatch(
      new RegExp(`${compacted} refused an output: INVALID_RECORD`),
    );
  });

  it('refuses to start when topics are missing, naming them, unless asked to create them', async () => {
    const topics = await freshTopics(brokers, 'missing', 1);
    const absent = { ...topics, left: `${topics.id}.absent-left`, right: `${topics.id}.absent-right` };
    const attempt = run(fanOut(absent), quiet);
    await expect(attempt).rejects.toBeInstanceOf(MissingTopicsError);
    await expect(attempt).rejects.toThrow(`${absent.left}, ${absent.right}`);

    const app = await run(fanOut(absent), { ...quiet, createTopics: true });
    await generateRecords({ brokers, topic: absent.input, count: 10 });
    try {
      await waitForGroupCaughtUp(brokers, absent.id, absent.input);
    } finally {
      await app.stop();
    }
    expect(ids(await readTopic(brokers, absent.left))).toEqual(range(10));
  });

  it('memory stays bounded when processing is slow: the consumer holds one fetch, not the backlog', async () => {
    const topics = await freshTopics(brokers, 'backpressure', 2);
    const total = 8000;
    await generateRecords({ brokers, topic: topics.input, count: total, padding: 1000 }); // ~1 KB records
    let handled = 0;
    // A slow handler (a pause every 100 records): fetched records pile up only if fetching does not wait.
    const slow = fanOut(topics, {
      beforeEach: async () => {
        handled += 1;
        if (handled % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      },
    });
    // platformatic polls up to maxBatchRecords (and queues at most twice that behind the poll in hand).
    const app = await run(slow, { ...quiet, maxBatchRecords: 1000 });
    try {
      await waitForGroupCaughtUp(brokers, topics.id, topics.input, 120_000);
    } finally {
      await app.stop();
    }
    const { peakInFlightRecords, recordsIn } = await app.metrics();
    expect(recordsIn).toBe(total);
    // kafkajs: 2 partitions x 1 MiB per fetch of ~1 KB records, about 2,000 at most; platformatic: one poll.
    // Never the 8,000 waiting.
    expect(peakInFlightRecords).toBeGreaterThan(0);
    expect(peakInFlightRecords).toBeLessThanOrEqual(client === 'kafkajs' ? 2200 : 1000);
  });

  it('serves Prometheus metrics on /metrics', async () => {
    const topics = await freshTopics(brokers, 'metrics', 1);
    await generateRecords({ brokers, topic: topics.input, count: 50 });
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const app = await run(fanOut(topics), { ...quiet, metricsPort: port });
    try {
      await waitForGroupCaughtUp(brokers, topics.id, topics.input);
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(text).toMatch(/^exactly_records_in_total 50$/m);
      expect(text).toMatch(new RegExp(`^exactly_records_out_total\\{topic="${topics.left}"\\} 50$`, 'm'));
      expect(text).toMatch(/^exactly_transactions_committed_total [1-9]\d*$/m);
      expect(text).toContain('exactly_commit_latency_seconds_bucket');
      expect(text).toContain('exactly_end_to_end_latency_seconds_bucket');
    } finally {
      await app.stop();
    }
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow(); // closed with the processor
  });
});
