import { setTimeout as delay } from 'node:timers/promises';
import {
  generateRecords,
  groupLag,
  readTopic,
  verifyExactlyOnce,
  waitForGroupCaughtUp,
  waitUntil,
} from '@exactly/testkit';
import { describe, expect, inject, it } from 'vitest';
import { CLIENTS, freshTopics, ids, range } from './helpers.js';
import { FAST, kill9, spawnFanOut } from './processes.js';

const brokers = inject('kafkaBrokers');

describe.each(CLIENTS)('processor processes killed on a real broker, %s (read_committed verification)', (client) => {
  it('a crash mid-batch shows nothing of the batch; after restart all of it appears once', async () => {
    const topics = await freshTopics(brokers, 'crash', 1);
    await generateRecords({ brokers, topic: topics.input, count: 500 });
    const crashing = spawnFanOut(brokers, topics, {
      client,
      instance: 'p',
      env: { EXACTLY_TEST_CRASH_AFTER: '250' },
      args: [...FAST, '--max-batch', '100'],
    });
    expect(await crashing.exited).toBe('SIGKILL');
    // Batches of 100: the first two committed, the third died in its handler at record 250.
    expect(ids(await readTopic(brokers, topics.left))).toEqual(range(200));
    expect(ids(await readTopic(brokers, topics.right))).toEqual(range(200));

    const restarted = spawnFanOut(brokers, topics, { client, instance: 'p', args: FAST });
    try {
      await waitForGroupCaughtUp(brokers, topics.id, topics.input, 60_000);
    } finally {
      restarted.child.kill('SIGTERM');
      expect(await restarted.exited).toBe(0);
    }
    expect(ids(await readTopic(brokers, topics.left))).toEqual(range(500));
    expect(ids(await readTopic(brokers, topics.right))).toEqual(range(500));
  });

  it('SIGKILLed mid-transaction and restarted, again and again: 0 duplicates, 0 missing, order kept', async () => {
    const topics = await freshTopics(brokers, 'kill', 3);
    const total = 20_000;
    await generateRecords({ brokers, topic: topics.input, count: total });
    let kills = 0;
    for (let round = 0; round < 5; round++) {
      const processor = spawnFanOut(brokers, topics, { client, instance: 'p', args: FAST });
      const lagBefore = await groupLag(brokers, topics.id, topics.input);
      // Kill once it is making progress, at a different point of a transaction each round.
      await waitUntil(
        async () => (await groupLag(brokers, topics.id, topics.input)) < lagBefore || lagBefore === 0,
        'progress',
        60_000,
      );
      await delay(50 + round * 37);
      await kill9(processor);
      kills += 1;
    }
    const last = spawnFanOut(brokers, topics, { client, instance: 'p', args: FAST });
    try {
      await waitForGroupCaughtUp(brokers, topics.id, topics.input, 120_000);
    } finally {
      last.child.kill('SIGTERM');
      await last.exited;
    }
    const verdict = await verifyExactlyOnce({ brokers, input: topics.input, outputs: [topics.left, topics.right] });
    expect(kills).toBe(5);
    expect(verdict).toMatchObject({
      ok: true,
      inputs: total,
      missing: 0,
      duplicated: 0,
      orphans: 0,
      orderViolations: 0,
      abortedRead: 0,
    });
    // How many records of aborted transactions the kills left in the log (none visible to read_committed).
    console.log(
      `[kill test] ${kills} kills; per output topic: ${JSON.stringify(verdict.outputs.map(({ examples: _, ...o }) => o))}`,
    );
  });

  it('SIGTERM stops gracefully with exit 0; a second SIGTERM exits at once', async () => {
    const topics = await freshTopics(brokers, 'signals', 1);
    await generateRecords({ brokers, topic: topics.input, count: 2000 });
    // 20 ms a record: a graceful stop has to wait for the open transaction of up to 500 records (10 s).
    const slow = { args: [...FAST, '--max-batch', '500'], env: { EXACTLY_TEST_SLOW_MS: '20' } };

    const graceful = spawnFanOut(brokers, topics, { ...slow, client, instance: 'p' });
    await waitUntil(() => /"msg":"partition (task )?opened"/.test(graceful.output()), 'processing', 30_000);
    graceful.child.kill('SIGTERM');
    expect(await graceful.exited).toBe(0);
    expect(graceful.output()).toContain('"msg":"processor stopped"');

    const impatient = spawnFanOut(brokers, topics, { ...slow, client, instance: 'p' });
    await waitUntil(() => /"msg":"partition (task )?opened"/.test(impatient.output()), 'processing', 30_000);
    impatient.child.kill('SIGTERM');
    await waitUntil(() => impatient.output().includes('SIGTERM: stopping'), 'the first signal to be seen', 10_000);
    const secondAt = Date.now();
    impatient.child.kill('SIGTERM');
    expect(await impatient.exited).toBe(130);
    expect(Date.now() - secondAt).toBeLessThan(5000); // did not wait for the 10 s transaction
  }, 120_000);
});
