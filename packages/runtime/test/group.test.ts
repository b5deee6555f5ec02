import {
  generateRecords,
  readTopic,
  startKafka,
  verifyExactlyOnce,
  waitForGroupCaughtUp,
  waitUntil,
} from '@exactly/testkit';
import { describe, expect, inject, it } from 'vitest';
import { CLIENTS, freshTopics } from './helpers.js';
import { FAST, kill9, type ProcessorProcess, spawnFanOut } from './processes.js';

const brokers = inject('kafkaBrokers');

/** The partitions a processor's logs say it owns now (its last "partitions assigned" line). */
function ownedPartitions(processor: ProcessorProcess): number[] | undefined {
  const lines = processor
    .output()
    .split('\n')
    .filter((l) => l.includes('"partitions assigned"'));
  const last = lines[lines.length - 1];
  return last ? (JSON.parse(last) as { partitions: number[] }).partitions : undefined;
}

async function stopAll(...processors: ProcessorProcess[]): Promise<void> {
  for (const p of processors) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await Promise.all(processors.map((p) => p.exited));
}

describe.each(CLIENTS)(
  'several instances, rebalances, zombies and a broker restart, %s (real broker, read_committed checks)',
  (client) => {
    it('two instances split the partitions; one is killed, its partitions move, no duplicates', async () => {
      const topics = await freshTopics(brokers, 'pair', 4);
      await generateRecords({ brokers, topic: topics.input, count: 40_000 });
      const env = { EXACTLY_TEST_SLOW_MS: '0' };
      const a = spawnFanOut(brokers, topics, { client, instance: 'a', args: FAST, env });
      const b = spawnFanOut(brokers, topics, { client, instance: 'b', args: FAST, env });
      try {
        // The two processes log their assignments independently: wait until the split has settled in both logs
        // (for a moment one may still show what it held before the other joined).
        const owned = () => [ownedPartitions(a)?.length ?? 0, ownedPartitions(b)?.length ?? 0];
        await waitUntil(
          () => owned().every((n) => n > 0) && owned().reduce((sum, n) => sum + n, 0) === 4,
          'both instances own partitions, 4 between them',
          60_000,
        );
        expect((ownedPartitions(a)?.length ?? 0) + (ownedPartitions(b)?.length ?? 0)).toBe(4);
        await kill9(a);
        await waitUntil(() => ownedPartitions(b)?.length === 4, 'the survivor owns all 4 partitions', 60_000);
        await waitForGroupCaughtUp(brokers, topics.id, topics.input, 120_000);
      } finally {
        await stopAll(a, b);
      }
      // With platformatic, the killed instance (never restarted under its id) leaves its open transaction to the
      // transaction timeout (10 s here): until the broker aborts it, read_committed readers of the partitions it
      // wrote to stop short of it. Wait for every output to be readable, then verify.
      for (const output of [topics.left, topics.right]) await readTopic(brokers, output, { minRecords: 40_000 });
      const verdict = await verifyExactlyOnce({ brokers, input: topics.input, outputs: [topics.left, topics.right] });
      expect(verdict).toMatchObject({
        ok: true,
        inputs: 40_000,
        missing: 0,
        duplicated: 0,
        orderViolations: 0,
        abortedRead: 0,
      });
    }, 180_000);

    it('a zombie (SIGSTOPped until its partitions moved, then resumed) is fenced: its late writes never show', async () => {
      const topics = await freshTopics(brokers, 'zombie', 4);
      await generateRecords({ brokers, topic: topics.input, count: 4000 });
      // 1000 records a partition at 5 ms a record and 100-record transactions: the stop lands inside an open transaction,
      // with most of the zombie's records still to do.
      const options = { args: [...FAST, '--max-batch', '100'], env: { EXACTLY_TEST_SLOW_MS: '5' } };
      const zombie = spawnFanOut(brokers, topics, { ...options, client, instance: 'zombie' });
      const survivor = spawnFanOut(brokers, topics, { ...options, client, instance: 'survivor' });
      try {
        await waitUntil(
          () => (ownedPartitions(zombie)?.length ?? 0) > 0 && (ownedPartitions(survivor)?.length ?? 0) > 0,
          'both own partitions',
          60_000,
        );
        const taken = ownedPartitions(zombie) ?? [];
        zombie.child.kill('SIGSTOP');
        await waitUntil(() => ownedPartitions(survivor)?.length === 4, 'the survivor owns all partitions', 60_000);
        // The survivor's InitProducerId for a partition the zombie held fences the zombie's producer.
        const fencedByInit = new RegExp(`"partition":(${taken.join('|')}),"committed"`);
        await waitUntil(
          () => fencedByInit.test(survivor.output()),
          "the survivor to take over the zombie's partitions",
          30_000,
        );
        const beforeResume = zombie.output().length;
        zombie.child.kill('SIGCONT');
        // Resumed mid-transaction, the zombie's next call is refused (fenced); resumed between transactions, it
        // rejoins the group first, and its tasks re-read their offsets. Either way it must come back in line.
        await waitUntil(
          () =>
            /producer fenced|transaction failed|"msg":"partitions assigned"/.test(zombie.output().slice(beforeResume)),
          'the zombie to be fenced or to rejoin the group',
          60_000,
        ).catch((error: unknown) => {
          console.log(`ZOMBIE AFTER RESUME\n${zombie.output().slice(beforeResume).split('\n').slice(-25).join('\n')}`);
          throw error;
        });
        await waitForGroupCaughtUp(brokers, topics.id, topics.input, 180_000);
      } catch (error) {
        console.log(
          'ZOMBIE\n' +
            zombie.output().split('\n').slice(-30).join('\n') +
            '\nSURVIVOR\n' +
            survivor.output().split('\n').slice(-40).join('\n'),
        );
        throw error;
      } finally {
        zombie.child.kill('SIGCONT');
        await stopAll(zombie, survivor);
      }
      const verdict = await verifyExactlyOnce({ brokers, input: topics.input, outputs: [topics.left, topics.right] });
      expect(verdict).toMatchObject({
        ok: true,
        inputs: 4000,
        missing: 0,
        duplicated: 0,
        orderViolations: 0,
        abortedRead: 0,
      });
    }, 300_000);

    it('the broker is killed (kill -9) and restarted under load: the processor recovers by itself, exactly once', async () => {
      const kafka = await startKafka({ localOnly: true });
      const local = kafka.local;
      if (!local) throw new Error('expected a local broker');
      try {
        const topics = await freshTopics(kafka.brokers, 'broker-restart', 3);
        await generateRecords({ brokers: kafka.brokers, topic: topics.input, count: 20_000 });
        const processor = spawnFanOut(kafka.brokers, topics, {
          client,
          instance: 'p',
          args: [...FAST, '--max-batch', '500'],
          env: { EXACTLY_TEST_SLOW_MS: '0' },
        });
        try {
          await waitUntil(
            () => /"msg":"partition (task )?opened"/.test(processor.output()),
            'processing started',
            60_000,
          );
          await local.kill();
          await local.start();
          await waitForGroupCaughtUp(kafka.brokers, topics.id, topics.input, 180_000);
          expect(processor.child.exitCode).toBeNull(); // it recovered; it did not exit
        } catch (error) {
          console.log(processor.output().split('\n').slice(-40).join('\n'));
          throw error;
        } finally {
          await stopAll(processor);
        }
        const verdict = await verifyExactlyOnce({
          brokers: kafka.brokers,
          input: topics.input,
          outputs: [topics.left, topics.right],
        });
        expect(verdict).toMatchObject({
          ok: true,
          inputs: 20_000,
          missing: 0,
          duplicated: 0,
          orderViolations: 0,
          abortedRead: 0,
        });
      } finally {
        await kafka.stop();
      }
    }, 300_000);
  },
);
