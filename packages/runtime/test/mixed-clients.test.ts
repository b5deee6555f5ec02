import { run } from '@exactly/runtime';
import { generateRecords, readTopic, verifyExactlyOnce, waitForGroupCaughtUp } from '@exactly/testkit';
import { describe, expect, inject, it } from 'vitest';
import { fanOut } from './fixtures/fan-out.js';
import { CLIENTS, freshTopics } from './helpers.js';

const brokers = inject('kafkaBrokers');

// A rolling Node upgrade changes the default client, so a group can meet both modes. They cannot share it: they
// join with different protocols and fence zombies differently. The newcomer must stop and say what to do; the
// members already in the group must go on as if nothing happened. (KafkaJS used to retry the join ten times a
// second, forever, logging an error each time.)
describe.runIf(CLIENTS.length === 2).each([
  ['kafkajs', 'platformatic'],
  ['platformatic', 'kafkajs'],
] as const)('a %s group that a %s instance tries to join (real broker)', (first, second) => {
  it('the newcomer stops, saying to run one client mode; the group goes on, exactly once', async () => {
    const topics = await freshTopics(brokers, `mixed-${first}`, 2);
    const options = { brokers, logLevel: 'silent' as const, provenance: true, sessionTimeoutMs: 6000 };
    const member = await run(fanOut(topics), { ...options, client: first, instanceId: 'old' });
    try {
      await generateRecords({ brokers, topic: topics.input, count: 500 });
      await waitForGroupCaughtUp(brokers, topics.id, topics.input);

      const newcomer = run(fanOut(topics), { ...options, client: second, instanceId: 'new' }).then(async (app) => {
        try {
          await app.done;
        } finally {
          await app.stop();
        }
      });
      await expect(newcomer).rejects.toThrow(/INCONSISTENT_GROUP_PROTOCOL.*same --client/);

      await generateRecords({ brokers, topic: topics.input, count: 500, startId: 500 });
      await waitForGroupCaughtUp(brokers, topics.id, topics.input);
    } finally {
      await member.stop();
    }
    await expect(member.done).resolves.toBeUndefined();
    for (const output of [topics.left, topics.right]) await readTopic(brokers, output, { minRecords: 1000 });
    const verdict = await verifyExactlyOnce({ brokers, input: topics.input, outputs: [topics.left, topics.right] });
    expect(verdict).toMatchObject({ ok: true, inputs: 1000, missing: 0, duplicated: 0 });
  });
});
