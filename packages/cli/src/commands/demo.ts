import { randomUUID } from 'node:crypto';
import { createTopics, readTopic, testClient } from '@exactly/testkit';
import { resolveBrokers } from '../brokers.js';

/**
 * `pnpm start`: shows Kafka transactions at work on a real broker: one committed transaction, one aborted,
 * then what a read_committed reader sees.
 */
export async function demoCommand(_args: string[]): Promise<number> {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const brokers = await resolveBrokers(undefined, say);
  const topic = `exactly-demo-${Date.now().toString(36)}`;
  await createTopics(brokers, [{ name: topic, partitions: 3 }]);
  say(`Created topic ${topic} (3 partitions) on ${brokers}.`);

  const producer = testClient(brokers, 'exactly-demo').producer({
    transactionalId: `exactly-demo-${randomUUID()}`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  const committed = Array.from({ length: 5 }, (_, i) => ({
    key: `order-${i + 1}`,
    value: JSON.stringify({ id: i + 1 }),
  }));
  const tx = await producer.transaction();
  await tx.send({ topic, messages: committed });
  await tx.commit();
  say(`Transaction 1: wrote ${committed.length} records and COMMITTED.`);
  const aborted = await producer.transaction();
  await aborted.send({ topic, messages: [{ key: 'order-x', value: '{"id":"never"}' }] });
  await aborted.abort();
  say('Transaction 2: wrote 1 record and ABORTED.');
  await producer.disconnect();

  const visible = await readTopic(brokers, topic, { isolation: 'read_committed', minRecords: committed.length });
  const inLog = await readTopic(brokers, topic, { isolation: 'read_uncommitted', minRecords: committed.length + 1 });
  say(
    `A read_committed reader sees ${visible.length} records: ${visible
      .map((r) => r.key?.toString())
      .sort()
      .join(', ')}.`,
  );
  say(`The log holds ${inLog.length} (the aborted one is there, but no read_committed reader ever sees it).`);
  const ok = visible.length === committed.length && inLog.length === committed.length + 1;
  say(ok ? 'Exactly once: committed records seen once, aborted records never.' : 'UNEXPECTED: see the counts above.');
  say('Kafka keeps running for the next command; stop it with: pnpm exactly kafka stop');
  return ok ? 0 : 1;
}
