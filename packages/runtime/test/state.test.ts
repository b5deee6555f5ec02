import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { changelogTopic, defineProcessor, json, store, string, topic } from '@exactly/core';
import { MissingTopicsError, run } from '@exactly/runtime';
import {
  createTopics,
  generateAmounts,
  groupProgress,
  readTopic,
  runningTotals,
  testClient,
  uniqueTopic,
  verifyRunningTotals,
  waitForGroupCaughtUp,
  waitUntil,
} from '@exactly/testkit';
import { describe, expect, inject, it } from 'vitest';
import { CLIENTS } from './helpers.js';
import { FAST, kill9, spawnTotals } from './processes.js';

const brokers = inject('kafkaBrokers');

interface StoresRestored {
  readonly partition: number;
  readonly fromCheckpoint: boolean;
  readonly line: string;
}

/** The 'stores restored' log lines of a process: did each restore start from a local checkpoint? */
function storesRestored(logs: string): StoresRestored[] {
  return logs
    .split('\n')
    .filter((line) => line.includes('"stores restored"'))
    .map((line) => ({ line, entry: JSON.parse(line) as { partition: number; fromCheckpoint?: object } }))
    .map(({ line, entry }) => ({
      partition: entry.partition,
      line,
      fromCheckpoint: Object.keys(entry.fromCheckpoint ?? {}).length > 0,
    }));
}

/** The local copies' checkpoints of the 'totals' store, per partition, read from its LMDB after the run. */
async function checkpointsOf(stateDir: string, id: string, partitions: number): Promise<(string | undefined)[]> {
  const { open } = await import('lmdb');
  const env = open({ path: join(stateDir, id, 'stores'), maxDbs: 16 });
  try {
    const checkpoints = env.openDB<{ offset: string }, string>({ name: 'checkpoints', encoding: 'json' });
    return Array.from({ length: partitions }, (_, p) => checkpoints.get(`totals/${p}`)?.offset);
  } finally {
    await env.close();
  }
}

/** Each partition's end (high watermark). */
async function highWatermarks(topic: string): Promise<string[]> {
  const admin = testClient(brokers).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.sort((a, b) => a.partition - b.partition).map((o) => o.high);
  } finally {
    await admin.disconnect();
  }
}

/** Fresh topics for a running-totals run: input and output with `partitions` each, and the store's changelog. */
async function totalsTopics(name: string, partitions: number, withChangelog = true) {
  const id = uniqueTopic(name);
  const topics = { id, input: `${id}.in`, output: `${id}.out` };
  const changelog = changelogTopic(id, 'totals');
  await createTopics(brokers, [
    { name: topics.input, partitions },
    { name: topics.output, partitions },
    { name: `${id}.dlq`, partitions },
    ...(withChangelog ? [{ name: changelog, partitions, config: { 'cleanup.policy': 'compact' } }] : []),
  ]);
  return { ...topics, changelog };
}

describe.each(CLIENTS)('stores on a real broker with %s (checked by a read_committed reader)', (client) => {
  const quiet = { brokers, client, logLevel: 'silent' as const };

  it("running totals: every total is its key's sum so far; a new instance restores the store and goes on", async () => {
    const topics = await totalsTopics('totals', 3);
    await generateAmounts({ brokers, topic: topics.input, count: 4000, keys: 40 });
    const first = await run(runningTotals(topics), { ...quiet, instanceId: 'first' });
    try {
      await waitForGroupCaughtUp(brokers, topics.id, topics.input);
    } finally {
      await first.stop();
    }
    await generateAmounts({ brokers, topic: topics.input, count: 3000, keys: 40, startId: 4000 });
    const second = await run(runningTotals(topics), { ...quiet, instanceId: 'second' });
    try {
      await waitForGroupCaughtUp(brokers, topics.id, topics.input);
    } finally {
      await second.stop();
    }
    const verdict = await verifyRunningTotals({ brokers, input: topics.input, output: topics.output });
    expect(verdict).toMatchObject({ ok: true, keys: 40, inputs: 7000, outputs: 7000 });
  });

  it('tombstones: an input delete reaches the handler as null, deletes from the store (also after a restore) and goes out as a tombstone', async () => {
    const id = uniqueTopic('profiles');
    const profiles = defineProcessor({
      id,
      input: topic(`${id}.in`, { key: string(), value: json<{ name: string }>(), tombstones: true }),
      stores: { names: store({ key: string(), value: string() }) },
      outputs: { names: topic(`${id}.out`, { key: string(), value: string(), tombstones: true }) },
      handle(record, { stores }) {
        const user = record.key ?? '';
        if (record.value === null) {
          stores.names.delete(user);
          return { names: [{ key: user, value: null }] };
        }
        stores.names.put(user, record.value.name);
        // How many users the store holds now: a delete that a restore missed would show here.
        return { names: [{ key: user, value: `${record.value.name}/${[...stores.names.entries()].length}` }] };
      },
    });
    await createTopics(brokers, [
      { name: `${id}.in`, partitions: 1 },
      { name: `${id}.out`, partitions: 1, config: { 'cleanup.policy': 'compact' } },
      { name: `${id}.dlq`, partitions: 1 },
      { name: changelogTopic(id, 'names'), partitions: 1, config: { 'cleanup.policy': 'compact' } },
    ]);
    const producer = testClient(brokers).producer();
    await producer.connect();
    const send = (key: string, value: string | null) =>
      producer.send({ topic: `${id}.in`, messages: [{ key, value }] });
    try {
      await send('u1', JSON.stringify({ name: 'Ada' }));
      await send('u2', JSON.stringify({ name: 'Grace' }));
      await send('u1', null);
      const first = await run(profiles, { ...quiet, instanceId: 'first' });
      try {
        await waitForGroupCaughtUp(brokers, id, `${id}.in`);
      } finally {
        await first.stop();
      }
      await send('u3', JSON.stringify({ name: 'Edsger' }));
      const second = await run(profiles, { ...quiet, instanceId: 'second' }); // restores the store
      try {
        await waitForGroupCaughtUp(brokers, id, `${id}.in`);
      } finally {
        await second.stop();
      }
    } finally {
      await producer.disconnect();
    }
    const out = await readTopic(brokers, `${id}.out`, { minRecords: 4 });
    expect(out.map((r) => [r.key?.toString(), r.value?.toString() ?? null])).toEqual([
      ['u1', 'Ada/1'],
      ['u2', 'Grace/2'],
      ['u1', null],
      ['u3', 'Edsger/2'],
    ]);
    expect(await readTopic(brokers, `${id}.dlq`, { timeoutMs: 0 })).toEqual([]);
  });

  it('creates the changelog compacted with --create-topics, and refuses to start without it otherwise', async () => {
    const topics = await totalsTopics('changelog', 2, false);
    await expect(run(runningTotals(topics), quiet)).rejects.toThrow(MissingTopicsError);
    await expect(run(runningTotals(topics), quiet)).rejects.toThrow(topics.changelog);
    const app = await run(runningTotals(topics), { ...quiet, createTopics: true });
    await app.stop();
    const admin = testClient(brokers).admin();
    await admin.connect();
    try {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: topics.changelog, configNames: ['cleanup.policy'] }],
      });
      expect(resources[0]?.configEntries[0]?.configValue).toBe('compact');
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics: [topics.changelog] });
      expect(metadata[0]?.partitions).toHaveLength(2);
    } finally {
      await admin.disconnect();
    }
  });

  // Each client with the keeping the CI chaos profile's stateful run does not give it (that one runs kafkajs
  // in memory and platformatic with local copies): every pairing is killed again and again once per CI run.
  it.each(client === 'kafkajs' ? (['local'] as const) : (['memory'] as const))(
    'SIGKILLed mid-transaction, again and again, state in %s: the totals are still exact',
    async (keeping) => {
      const topics = await totalsTopics(`totals-kill-${keeping}`, 3);
      const stateDir = keeping === 'local' ? mkdtempSync(join(tmpdir(), 'exactly-state-')) : undefined;
      const args = [...FAST, ...(stateDir ? ['--state-dir', stateDir] : [])];
      await generateAmounts({ brokers, topic: topics.input, count: 12_000, keys: 100 });
      const restores: StoresRestored[] = [];
      for (let round = 0; round < 3; round++) {
        const processor = spawnTotals(brokers, topics, {
          client,
          instance: 'p',
          args,
          env: { EXACTLY_TEST_SLOW_MS: '1' }, // transactions stay open long enough to be cut
        });
        // Let it commit some transactions, then kill it, most likely in the middle of another.
        const from = (await groupProgress(brokers, topics.id, topics.input)).committed;
        await waitUntil(
          async () => (await groupProgress(brokers, topics.id, topics.input)).committed >= from + 1000,
          'a thousand more records committed',
          60_000,
        );
        await kill9(processor);
        restores.push(...storesRestored(processor.output()));
      }
      const finisher = spawnTotals(brokers, topics, { client, instance: 'p', args });
      try {
        await waitForGroupCaughtUp(brokers, topics.id, topics.input, 120_000);
      } finally {
        finisher.child.kill('SIGTERM');
        await finisher.exited;
      }
      restores.push(...storesRestored(finisher.output()));
      const verdict = await verifyRunningTotals({ brokers, input: topics.input, output: topics.output });
      expect(verdict).toMatchObject({ ok: true, inputs: 12_000, outputs: 12_000, wrongTotals: 0, duplicated: 0 });
      if (keeping === 'local') {
        // After a partition's first restore, every one starts from the local copy's checkpoint, not the changelog's
        // start (only a restore that ended is logged).
        const later = restores.filter((r, i) => restores.findIndex((f) => f.partition === r.partition) < i);
        expect(later.length).toBeGreaterThan(0);
        expect(later.filter((r) => !r.fromCheckpoint).map((r) => r.line)).toEqual([]);
        // No checkpoint claims more than the log holds. One may be behind: a process killed between a commit and
        // its phase 3 leaves its copy and checkpoint before that commit, and a partition with no input left is
        // not restored again (CI saw a checkpoint still at 0 that way); the next restore reads the difference.
        const checkpoints = await checkpointsOf(stateDir ?? '', topics.id, 3);
        const ends = await highWatermarks(topics.changelog);
        for (let p = 0; p < 3; p++) {
          const checkpoint = checkpoints[p];
          if (checkpoint !== undefined)
            expect(BigInt(checkpoint), `partition ${p}`).toBeLessThanOrEqual(BigInt(ends[p] ?? '0'));
        }
      }
      if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    },
    240_000,
  );
});
