import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import {
  createTopics,
  readTopic,
  testClient,
  uniqueTopic,
  waitUntil,
  writeInterleavedTransactions,
} from '../src/index.js';
import { scanTransactions } from '../src/verifier/transaction-scan.js';

// The broker itself, before any Exactly code: the transactional behaviour the runtime builds on.
const brokers = inject('kafkaBrokers');

async function transactionalProducer(id = `tx-${randomUUID()}`) {
  const producer = testClient(brokers).producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  return producer;
}

describe('Kafka transactions against a real broker (read_committed reader)', () => {
  it('a committed transaction is seen once', async () => {
    const topic = uniqueTopic('committed');
    await createTopics(brokers, [{ name: topic, partitions: 2 }]);
    const producer = await transactionalProducer();
    const tx = await producer.transaction();
    await tx.send({ topic, messages: ['a', 'b', 'c'].map((value) => ({ key: value, value })) });
    await tx.commit();
    await producer.disconnect();

    const values = (await readTopic(brokers, topic, { minRecords: 3 })).map((r) => r.value?.toString()).sort();
    expect(values).toEqual(['a', 'b', 'c']);
  });

  it('an aborted transaction is never seen by read_committed, though its records are in the log', async () => {
    const topic = uniqueTopic('aborted');
    await createTopics(brokers, [topic]);
    const producer = await transactionalProducer();
    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [{ value: 'aborted-1' }, { value: 'aborted-2' }] });
    await aborted.abort();
    const committed = await producer.transaction();
    await committed.send({ topic, messages: [{ value: 'kept' }] });
    await committed.commit();
    await producer.disconnect();

    const readCommitted = (await readTopic(brokers, topic, { minRecords: 1 })).map((r) => r.value?.toString());
    const readUncommitted = (await readTopic(brokers, topic, { isolation: 'read_uncommitted', minRecords: 3 })).map(
      (r) => r.value?.toString(),
    );
    expect(readCommitted).toEqual(['kept']);
    expect(readUncommitted).toEqual(['aborted-1', 'aborted-2', 'kept']);
  });

  it('read_committed returns no record of interleaved and repeated aborted transactions (KafkaJS alone returns some)', async () => {
    const topic = uniqueTopic('interleaved');
    await createTopics(brokers, [topic]);
    const committed = Array.from({ length: 5 }, (_, i) => ({ value: `committed-${i}` }));
    const aborted = Array.from({ length: 20 }, (_, i) => ({ value: `aborted-${i}` }));
    await writeInterleavedTransactions({ brokers, topic, committed, aborted });

    const values = (await readTopic(brokers, topic)).map((r) => r.value?.toString());
    expect(values).toEqual(committed.map((r) => r.value));
    // The log holds every aborted record, decided by its own markers.
    const fates = await scanTransactions(brokers, topic, 30_000);
    expect(fates.filter((r) => r.fate === 'aborted')).toHaveLength(aborted.length);
    expect(fates.filter((r) => r.fate === 'committed')).toHaveLength(committed.length);
  });

  it('sendOffsets moves the group offset only when the transaction commits', async () => {
    const topic = uniqueTopic('offsets');
    const groupId = `group-${randomUUID()}`;
    await createTopics(brokers, [{ name: topic, partitions: 2 }]);
    const admin = testClient(brokers).admin();
    await admin.connect();
    const committedOffset = async (partition: number) => {
      const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return entry?.partitions.find((p) => p.partition === partition)?.offset;
    };
    const offsets = (partition: number, offset: string) => ({
      consumerGroupId: groupId,
      topics: [{ topic, partitions: [{ partition, offset }] }],
    });
    try {
      const producer = await transactionalProducer();
      const aborted = await producer.transaction();
      await aborted.sendOffsets(offsets(0, '5'));
      await aborted.abort();
      // A later committed transaction: once its offset is visible, the abort before it has been applied too.
      const marker = await producer.transaction();
      await marker.send({ topic, messages: [{ value: 'marker' }] }); // KafkaJS retries this one past CONCURRENT_TRANSACTIONS
      await marker.sendOffsets(offsets(1, '3'));
      await marker.commit();
      await waitUntil(async () => (await committedOffset(1)) === '3', 'the later commit to be applied', 10_000);
      expect(await committedOffset(0)).toBe('-1');

      const committed = await producer.transaction();
      await committed.send({ topic, messages: [{ value: 'with-offsets' }] });
      await committed.sendOffsets(offsets(0, '7'));
      await committed.commit();
      await producer.disconnect();
      await waitUntil(async () => (await committedOffset(0)) !== '-1', 'the commit to be applied', 10_000);
      expect(await committedOffset(0)).toBe('7');
    } finally {
      await admin.disconnect();
    }
  });

  it('a second producer with the same transactional.id fences the first (zombie fencing)', async () => {
    const topic = uniqueTopic('fenced');
    await createTopics(brokers, [topic]);
    const id = `tx-${randomUUID()}`;
    const zombie = await transactionalProducer(id);
    const zombieTx = await zombie.transaction();
    await zombieTx.send({ topic, messages: [{ value: 'zombie' }] });
    const successor = await transactionalProducer(id); // InitProducerId bumps the epoch and aborts the open transaction
    const tx = await successor.transaction();
    await tx.send({ topic, messages: [{ value: 'successor' }] });
    await tx.commit();
    await expect(zombieTx.commit()).rejects.toThrow(/fenced|epoch|ProducerFenced|INVALID_PRODUCER_EPOCH/i);
    await Promise.allSettled([zombie.disconnect(), successor.disconnect()]);

    expect((await readTopic(brokers, topic, { minRecords: 1 })).map((r) => r.value?.toString())).toEqual(['successor']);
  });
});
