import { createTopics, readTopic, testClient, uniqueTopic, waitUntil } from '@exactly/testkit';
import { describe, expect, inject, it } from 'vitest';
import { createAdapter } from '../src/adapters/create-adapter.js';
import { createLogger } from '../src/observability/logger.js';
import { ClientError } from '../src/port/errors.js';
import { CLIENTS } from './helpers.js';

const brokers = inject('kafkaBrokers');

// The engine's safety rests on this order: a new owner's init() fences the old owner *before* it reads the
// committed offset. Both clients send the transactional InitProducerId lazily (on the first transaction), so
// the adapters force it inside init(). Found by `pnpm chaos` (a zombie resumed and fenced the new owners).
// The second init() is also the restart of an instance on a transactional.id used before: @platformatic/kafka
// asked to re-init producer 0 there, which the broker refuses; the adapter asks for a new producer.
describe.each(CLIENTS)('the %s adapter: init() fences at once (real broker)', (client) => {
  it("a second producer's init() alone fences the first: the first one's open transaction cannot commit", async () => {
    const topic = uniqueTopic('fence-on-init');
    await createTopics(brokers, [topic]);
    const adapter = await createAdapter(
      client,
      { brokers: [brokers], clientId: 'fencing-test' },
      createLogger('silent', {}),
    );
    const options = {
      transactionalId: `${topic}.tx`,
      transactionTimeoutMs: 30_000,
      maxRequestBytes: 900 * 1024,
      compression: 'lz4' as const,
    };
    const oldOwner = adapter.producer(options);
    await oldOwner.init();
    const stale = await oldOwner.begin();
    await stale.send([{ topic, key: null, value: Buffer.from('from the old owner'), headers: {} }]);

    const newOwner = adapter.producer(options);
    await newOwner.init(); // no transaction begun: the fencing must already have happened

    const error = await stale.commit().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).kind).toBe('fenced');
    await Promise.all([oldOwner.close(), newOwner.close()]);
    expect(await readTopic(brokers, topic)).toEqual([]);
  });
});

// A new owner must not read past an offset that a previous owner's transaction is about to commit. A previous
// owner with the same transactional.id is settled by init(); one with another id (the other client mode, during
// a rolling change) only require_stable waits for. KafkaJS cannot ask for it; the adapter sends OffsetFetch v7.
describe.each(CLIENTS)('the %s adapter reads committed offsets with require_stable (real broker)', (client) => {
  it("waits for another transactional.id's pending offset commit (a first one too), then reads what it left", async () => {
    const topic = uniqueTopic('stable-offsets');
    const group = `${topic}.group`;
    await createTopics(brokers, [topic]);
    const other = testClient(brokers).producer({
      transactionalId: `${topic}.other-mode`,
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await other.connect();
    const adapter = await createAdapter(
      client,
      { brokers: [brokers], clientId: 'stable-test' },
      createLogger('silent', {}),
    );
    const admin = adapter.admin();
    /** What the adapter reads once the offsets are stable (polled: the markers take a moment). */
    const stableOffset = async () => {
      let offsets: Map<number, string | null> | undefined;
      await waitUntil(async () => {
        offsets = await admin.committedOffsets(group, topic, [0]).catch(() => undefined);
        return offsets !== undefined;
      }, 'the offsets to be stable');
      return offsets?.get(0);
    };
    // EndTxn answers before the coordinator has written the previous transaction's markers; until it has, the
    // next AddOffsetsToTxn is refused as CONCURRENT_TRANSACTIONS (retriable), so it is sent again.
    const pendingCommitOf = async (offset: string) => {
      const transaction = await other.transaction();
      await waitUntil(
        () =>
          transaction
            .sendOffsets({ consumerGroupId: group, topics: [{ topic, partitions: [{ partition: 0, offset }] }] })
            .then(
              () => true,
              (e: unknown) => {
                if ((e as { type?: string }).type === 'CONCURRENT_TRANSACTIONS') return false;
                throw e;
              },
            ),
        'the coordinator to end the previous transaction',
      );
      return transaction;
    };
    const refusal = () =>
      admin.committedOffsets(group, topic, [0]).then(
        (offsets) => offsets,
        (e: unknown) => e,
      );
    try {
      // The group's first commit, pending: not "no offset" (which would mean: start from the beginning).
      const first = await pendingCommitOf('5');
      expect(await refusal()).toMatchObject({ kind: 'retriable', code: 'UNSTABLE_OFFSET_COMMIT' });
      await first.commit();
      expect(await stableOffset()).toBe('5');
      // A later one, pending then aborted: the committed offset before it.
      const second = await pendingCommitOf('9');
      const refused = await refusal();
      expect(refused).toBeInstanceOf(ClientError);
      expect(refused).toMatchObject({ kind: 'retriable', code: 'UNSTABLE_OFFSET_COMMIT' });
      await second.abort();
      expect(await stableOffset()).toBe('5');
    } finally {
      await admin.close();
      await other.disconnect();
    }
  });
});

// The broker aborts a transaction that outlives its timeout and bumps the producer's epoch, so the client then
// reads exactly as if another producer had fenced it. The transaction owner tells the two apart by the
// transaction's age (recovery.test.ts); this keeps the premise true for both clients on a real broker.
describe.each(CLIENTS)('the %s adapter, when a transaction outlives its timeout (real broker)', (client) => {
  it('its next call fails as fenced (INVALID_PRODUCER_EPOCH or PRODUCER_FENCED), and nothing of it is visible', async () => {
    const topic = uniqueTopic('timed-out');
    await createTopics(brokers, [topic]);
    const adapter = await createAdapter(
      client,
      { brokers: [brokers], clientId: 'timeout-test' },
      createLogger('silent', {}),
    );
    const producer = adapter.producer({
      transactionalId: `${topic}.tx`,
      transactionTimeoutMs: 1000,
      maxRequestBytes: 900 * 1024,
      compression: 'lz4' as const,
    });
    const record = { topic, key: null, value: Buffer.from('late'), headers: {} };
    try {
      await producer.init();
      const transaction = await producer.begin();
      await transaction.send([record]);
      let refusal: unknown;
      // The broker looks for timed-out transactions every few seconds (5 s on the local broker).
      await waitUntil(async () => {
        refusal = await transaction.send([record]).then(
          () => undefined,
          (e: unknown) => e,
        );
        return refusal !== undefined;
      }, 'the broker to abort the transaction');
      expect(refusal).toBeInstanceOf(ClientError);
      expect((refusal as ClientError).kind).toBe('fenced');
      expect(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED']).toContain((refusal as ClientError).code);
      await expect(transaction.commit()).rejects.toMatchObject({ kind: 'fenced' });
    } finally {
      await producer.close();
    }
    expect(await readTopic(brokers, topic)).toEqual([]);
  });
});
