import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineProcessor, ExactlyConfigError, json, store, string, topic } from '@exactly/core';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { LocalStateDir } from '../src/engine/local-state.js';
import { type FakeCall, FakeKafka, type FaultOptions } from './fake/fake-kafka.js';
import { type Fencing, runOnFake, until } from './fake/run-on-fake.js';

// Stores through every recovery path of the transaction owner, on the fake Kafka: after any failure the state
// must be exactly what the committed records made it. A running total per key shows it: each output carries
// the total after its input, so every key's outputs must be the prefix sums of its amounts, in input order,
// each once; and the changelog must end with each key's final total.

const MODES: readonly Fencing[] = ['partition', 'instance'];
/** Where the committed state lives: in memory, or in a local copy under a state directory (LMDB). */
type Keeping = 'memory' | 'local';
const CASES: ReadonlyArray<[Fencing, Keeping]> = MODES.flatMap((m) => [
  [m, 'memory'],
  [m, 'local'],
]);

/** Every state directory the tests made, removed at the end. */
const stateDirs: string[] = [];
afterAll(() => {
  for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
});

function newStateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'exactly-state-'));
  stateDirs.push(dir);
  return dir;
}

/** Run options for `keeping`: a fresh state directory for a local copy (one per instance). */
function keepingOptions(keeping: Keeping): { stateDir?: string } {
  return keeping === 'local' ? { stateDir: newStateDir() } : {};
}
const KEYS = 5;

interface Amount {
  readonly id: number;
  readonly amount: number;
}

const names = { id: 'totals', input: 'totals.in', out: 'totals.out', changelog: 'totals-totals-changelog' };

function totals() {
  return defineProcessor({
    id: names.id,
    input: topic(names.input, { key: string(), value: json<Amount>() }),
    stores: { totals: store({ key: string(), value: json<number>() }) },
    outputs: { out: topic(names.out, { key: string(), value: json<{ id: number; total: number }>() }) },
    handle({ key, value }, { stores }) {
      if (key === null) throw new Error('no key');
      const total = (stores.totals.get(key) ?? 0) + value.amount;
      stores.totals.put(key, total);
      if (value.amount < 0) throw new Error('negative amount'); // a dead letter: its put must not count
      return { out: [{ key, value: { id: value.id, total } }] };
    },
  });
}

/** How many of the first `count` inputs land on `partition` (a key's records all go to one partition). */
function inputsOn(partition: number, count: number, partitions = 2): bigint {
  let n = 0n;
  for (let id = 0; id < count; id++) if ((id % KEYS) % partitions === partition) n++;
  return n;
}

function amountOf(id: number): number {
  return id % 7 === 3 ? -1 : (id % 11) + 1; // a few negative ones: dead letters
}

function setUp(kafka: FakeKafka, count: number, partitions: number, from = 0) {
  for (const topicName of [names.input, names.out, 'totals.dlq', names.changelog]) {
    if (from === 0) kafka.createTopic(topicName, partitions);
  }
  kafka.produce(
    names.input,
    Array.from({ length: count }, (_, i) => {
      const id = from + i;
      // A key's records all go to one partition: a store is scoped to its input partition.
      const key = id % KEYS;
      return { key: `k${key}`, value: JSON.stringify({ id, amount: amountOf(id) }), partition: key % partitions };
    }),
  );
}

/** Every key's outputs, in log order, must be the prefix sums of its valid amounts, each input once. */
function checkTotals(kafka: FakeKafka, count: number) {
  const byKey = new Map<string, { id: number; total: number }[]>();
  for (const record of kafka.read(names.out)) {
    const key = record.key?.toString() ?? '';
    const list = byKey.get(key) ?? [];
    list.push(JSON.parse(record.value?.toString() ?? '{}') as { id: number; total: number });
    byKey.set(key, list);
  }
  const finals = new Map<string, number>();
  for (let k = 0; k < KEYS; k++) {
    const key = `k${k}`;
    const expected: { id: number; total: number }[] = [];
    let total = 0;
    for (let id = k; id < count; id += KEYS) {
      if (amountOf(id) < 0) continue;
      total += amountOf(id);
      expected.push({ id, total });
    }
    expect(byKey.get(key) ?? [], `outputs of ${key}`).toEqual(expected);
    finals.set(key, total);
  }
  // The changelog's last value of each key is the final total (what a restore reads back).
  const changelog = new Map<string, number>();
  for (const record of kafka.read(names.changelog)) {
    changelog.set(record.key?.toString() ?? '', JSON.parse(record.value?.toString() ?? 'null') as number);
  }
  expect(changelog).toEqual(finals);
}

async function runUntilDone(kafka: FakeKafka, fencing: Fencing, count: number, partitions: number, options = {}) {
  const app = await runOnFake(kafka, fencing, totals() as never, options);
  try {
    await until(
      () => {
        let total = 0;
        for (let p = 0; p < partitions; p++) total += Number(kafka.committedOffset(names.id, names.input, p) ?? 0n);
        return total === count;
      },
      `${count} inputs committed`,
      15_000,
    );
  } finally {
    await app.stop();
  }
  return app;
}

const FAULTS: ReadonlyArray<[string, FakeCall, Parameters<FakeKafka['failNext']>[1], FaultOptions]> = [
  ['the offsets fail retriably (aborted)', 'sendOffsets', 'retriable', { code: 'COORDINATOR_LOAD_IN_PROGRESS' }],
  ['a send fails, abortably', 'send', 'abortable', { code: 'INVALID_TXN_STATE' }],
  [
    'the commit fails and did commit (unknown outcome)',
    'commit',
    'retriable',
    { code: 'REQUEST_TIMED_OUT', takeEffect: true },
  ],
  ['the commit fails and did not commit', 'commit', 'retriable', { code: 'COORDINATOR_NOT_AVAILABLE' }],
  ['the commit fails, then the abort of the next one too', 'abort', 'retriable', { code: 'REQUEST_TIMED_OUT' }],
];

describe.each(CASES)(
  'stores on the fake Kafka, %s fencing, state in %s: the state is what the committed records made it',
  (fencing, keeping) => {
    it('running totals per key, with dead letters whose writes are undone', async () => {
      const kafka = new FakeKafka();
      setUp(kafka, 200, 2);
      await runUntilDone(kafka, fencing, 200, 2, { maxBatchRecords: 25, ...keepingOptions(keeping) });
      checkTotals(kafka, 200);
      expect(kafka.read('totals.dlq').length).toBeGreaterThan(0);
    });

    it.each(FAULTS)(
      "%s: the transaction's changes are dropped, or read back from the changelog",
      async (_what, call, kind, options) => {
        const kafka = new FakeKafka();
        setUp(kafka, 200, 2);
        kafka.failNext(call, kind, { ...options, times: 2 });
        if (call === 'abort') kafka.failNext('commit', 'abortable', { code: 'INVALID_TXN_STATE' });
        await runUntilDone(kafka, fencing, 200, 2, { maxBatchRecords: 25, ...keepingOptions(keeping) });
        checkTotals(kafka, 200);
        expect(kafka.count('abort') + kafka.inits()).toBeGreaterThan(1); // the fault did strike
      },
    );

    it('a new instance restores the stores from the changelog and goes on from there', async () => {
      const kafka = new FakeKafka();
      setUp(kafka, 120, 2);
      await runUntilDone(kafka, fencing, 120, 2, { maxBatchRecords: 25, ...keepingOptions(keeping) });
      setUp(kafka, 80, 2, 120); // more input while no instance runs
      await runUntilDone(kafka, fencing, 200, 2, {
        maxBatchRecords: 25,
        instanceId: 'another',
        ...keepingOptions(keeping),
      });
      checkTotals(kafka, 200);
    });
  },
);

describe.each(CASES)('stores on the fake Kafka, %s fencing, state in %s: a zombie', (fencing, keeping) => {
  it("a zombie's open transaction in the changelog: a restore waits for it to end, and misses none of the changes committed past it", async () => {
    const kafka = new FakeKafka();
    setUp(kafka, 100, 2);
    // Another owner's producer (another transactional.id: not fenced by this instance) left a transaction open
    // in changelog partition 1; the broker aborts it after its timeout.
    const zombie = kafka.adapter(fencing).producer({
      transactionalId: 'zombie',
      transactionTimeoutMs: 1500,
      maxRequestBytes: 1024 * 1024,
      compression: 'none',
    });
    await zombie.init();
    const open = await zombie.begin();
    await open.send([
      { topic: names.changelog, key: Buffer.from('k1'), value: Buffer.from('999'), headers: {}, partition: 1 },
    ]);
    const app = await runOnFake(kafka, fencing, totals() as never, { maxBatchRecords: 25, ...keepingOptions(keeping) });
    try {
      await until(
        () => kafka.committedOffset(names.id, names.input, 1) === inputsOn(1, 100),
        'partition 1 done',
        15_000,
      );
      // A rebalance: the stores are restored again, while the zombie's transaction may still be open.
      kafka.rebalance();
      setUp(kafka, 100, 2, 100);
      await until(
        () =>
          kafka.committedOffset(names.id, names.input, 0) === inputsOn(0, 200) &&
          kafka.committedOffset(names.id, names.input, 1) === inputsOn(1, 200),
        'all done',
        15_000,
      );
    } finally {
      await app.stop();
    }
    checkTotals(kafka, 200);
  });
});

describe.each(['memory', 'local'] as const)(
  'stores on the fake Kafka, instance fencing, state in %s: rebalances',
  (keeping) => {
    it('the group moving on mid-transaction: the changes are dropped and the poll redone', async () => {
      const kafka = new FakeKafka();
      setUp(kafka, 200, 2);
      let moves = 3;
      kafka.before('sendOffsets', () => {
        if (moves-- > 0) kafka.rebalance();
      });
      await runUntilDone(kafka, 'instance', 200, 2, { maxBatchRecords: 25, ...keepingOptions(keeping) });
      checkTotals(kafka, 200);
    });

    it('a partition that moves to another instance and back: each owner restores what the other committed', async () => {
      const kafka = new FakeKafka();
      setUp(kafka, 100, 2);
      const app = await runOnFake(kafka, 'instance', totals() as never, {
        maxBatchRecords: 25,
        ...keepingOptions(keeping),
      });
      try {
        await until(() => kafka.committedOffset(names.id, names.input, 1) === inputsOn(1, 100), 'partition 1 done');
        // A second instance joins: it gets partition 1, restores its store from the changelog, and goes on.
        const other = await runOnFake(kafka, 'instance', totals() as never, {
          maxBatchRecords: 25,
          instanceId: 'other',
          ...keepingOptions(keeping),
        });
        try {
          setUp(kafka, 40, 2, 100);
          await until(
            () => kafka.committedOffset(names.id, names.input, 1) === inputsOn(1, 140),
            'partition 1 done by the other',
          );
        } finally {
          await other.stop(); // partition 1 comes back to the first instance, which must restore it again
        }
        setUp(kafka, 60, 2, 140);
        await until(
          () =>
            kafka.committedOffset(names.id, names.input, 0) === inputsOn(0, 200) &&
            kafka.committedOffset(names.id, names.input, 1) === inputsOn(1, 200),
          'all done',
        );
      } finally {
        await app.stop();
      }
      checkTotals(kafka, 200);
    });
  },
);

describe.each(MODES)('local copies of the stores (stateDir), %s fencing', (fencing) => {
  const restoresOf = (kafka: FakeKafka) => kafka.restores.filter((r) => r.topic === names.changelog);

  it('a restart reads only the changelog after the checkpoint, and the totals go on from the copy', async () => {
    const kafka = new FakeKafka();
    const stateDir = newStateDir();
    setUp(kafka, 150, 2);
    await runUntilDone(kafka, fencing, 150, 2, { maxBatchRecords: 25, stateDir });
    const firstRun = restoresOf(kafka).length;
    expect(restoresOf(kafka).every((r) => r.from === null)).toBe(true); // nothing local yet: whole changelogs
    setUp(kafka, 50, 2, 150);
    await runUntilDone(kafka, fencing, 200, 2, { maxBatchRecords: 25, stateDir });
    const restart = restoresOf(kafka).slice(firstRun);
    expect(restart.length).toBeGreaterThan(0);
    for (const { partition, from, records } of restart) {
      // The checkpoint is where the last commit's changelog records ended: nothing of the first run is read again.
      expect(from, `partition ${partition} restored from its checkpoint`).not.toBeNull();
      expect(records).toBe(0);
      expect(Number(from)).toBeGreaterThan(0);
    }
    checkTotals(kafka, 200);
  });

  it('a checkpoint older than the changelog keeps deletes is not used: the copy is rebuilt whole', async () => {
    const kafka = new FakeKafka();
    kafka.createTopic(names.changelog, 2, { deleteRetentionMs: 1 });
    const stateDir = newStateDir();
    setUp(kafka, 100, 2);
    await runUntilDone(kafka, fencing, 100, 2, { maxBatchRecords: 25, stateDir });
    const firstRun = restoresOf(kafka).length;
    await until(() => true, 'a millisecond passes', 10); // the checkpoints are older than 1 ms from here on
    setUp(kafka, 50, 2, 100);
    await runUntilDone(kafka, fencing, 150, 2, { maxBatchRecords: 25, stateDir });
    const restart = restoresOf(kafka).slice(firstRun);
    expect(restart.length).toBeGreaterThan(0);
    expect(restart.every((r) => r.from === null && r.records > 0)).toBe(true);
    checkTotals(kafka, 150);
  });

  it('a copy ahead of its changelog (the topic was recreated) is rebuilt from the new changelog', async () => {
    const stateDir = newStateDir();
    const before = new FakeKafka();
    setUp(before, 200, 2);
    await runUntilDone(before, fencing, 200, 2, { maxBatchRecords: 25, stateDir });
    const kafka = new FakeKafka(); // the same topics, recreated: shorter logs than the copy's checkpoints
    setUp(kafka, 3, 2); // keys k0..k2 only: k3 and k4 must be gone from the rebuilt copy
    await runUntilDone(kafka, fencing, 3, 2, { maxBatchRecords: 25, stateDir });
    expect(restoresOf(kafka).every((r) => r.from === null)).toBe(true);
    setUp(kafka, 57, 2, 3);
    await runUntilDone(kafka, fencing, 60, 2, { maxBatchRecords: 25, stateDir });
    checkTotals(kafka, 60); // totals from the new log alone: nothing of the old copy leaks in
  });

  it('a commit whose local apply fails (phase 3) stands: the copy is rebuilt from the changelog, totals stay right', async () => {
    const kafka = new FakeKafka();
    const stateDir = newStateDir();
    setUp(kafka, 150, 2);
    // The third apply to the local copy fails (a full disk, say), after Kafka has committed.
    const apply = LocalStateDir.prototype.atomically;
    let applies = 0;
    const failing = vi.spyOn(LocalStateDir.prototype, 'atomically').mockImplementation(function (
      this: LocalStateDir,
      writes,
    ) {
      applies += 1;
      if (applies === 3) throw new Error('disk full');
      apply.call(this, writes);
    });
    try {
      await runUntilDone(kafka, fencing, 150, 2, { maxBatchRecords: 25, stateDir });
    } finally {
      failing.mockRestore();
    }
    expect(applies).toBeGreaterThan(3);
    // Each partition restores once at its start (whole: nothing local yet); the one whose apply failed once more,
    // from its last good checkpoint, reading the failed apply's changes back from the changelog.
    const restores = restoresOf(kafka);
    for (const partition of [0, 1]) expect(restores.find((r) => r.partition === partition)?.from).toBeNull();
    expect(restores.length).toBeGreaterThan(2);
    expect(restores.some((r) => r.from !== null && r.records > 0)).toBe(true);
    checkTotals(kafka, 150);
    // A restart goes on from the copy: it must hold the commit whose first apply failed.
    setUp(kafka, 50, 2, 150);
    await runUntilDone(kafka, fencing, 200, 2, { maxBatchRecords: 25, stateDir });
    checkTotals(kafka, 200);
  });

  it('a store key longer than LMDB keeps is a dead letter that says so; the other records go on', async () => {
    const kafka = new FakeKafka();
    setUp(kafka, 20, 2);
    kafka.produce(names.input, [{ key: 'x'.repeat(3000), value: JSON.stringify({ id: 20, amount: 1 }), partition: 0 }]);
    const app = await runOnFake(kafka, fencing, totals() as never, { stateDir: newStateDir() });
    const reasons = () => kafka.read('totals.dlq').map((r) => r.headers['exactly.error.message']?.toString() ?? '');
    try {
      await until(() => reasons().some((m) => m.includes('3000 bytes')), 'the long key dead-lettered');
      await until(
        () => kafka.committedOffset(names.id, names.input, 0) === inputsOn(0, 20) + 1n,
        'partition 0 past it',
      );
    } finally {
      await app.stop();
    }
    expect(reasons().filter((m) => m.includes('3000 bytes'))).toEqual([
      expect.stringMatching(/a key of 3000 bytes is longer than a local copy \(stateDir\) keeps \(1977\)/),
    ]);
    checkTotals(kafka, 20);
  });

  it('one process per state directory: a second run() on it is refused; a lock left by a dead process is taken', async () => {
    const kafka = new FakeKafka();
    const stateDir = newStateDir();
    setUp(kafka, 20, 2);
    const app = await runOnFake(kafka, fencing, totals() as never, { stateDir });
    try {
      await expect(runOnFake(kafka, fencing, totals() as never, { stateDir, instanceId: 'second' })).rejects.toThrow(
        ExactlyConfigError,
      );
    } finally {
      await app.stop();
    }
    // A process that died (SIGKILL) leaves its lock file: a pid of this host that is not alive holds nothing.
    const lock = join(stateDir, names.id, 'LOCK');
    writeFileSync(lock, JSON.stringify({ host: hostname(), pid: 2147483646 }));
    setUp(kafka, 20, 2, 20);
    await runUntilDone(kafka, fencing, 40, 2, { stateDir });
    // Nor does one of another host (a shared volume) that has not been renewed for a while.
    writeFileSync(lock, JSON.stringify({ host: 'elsewhere', pid: 1 }));
    const longAgo = new Date(Date.now() - 60_000);
    utimesSync(lock, longAgo, longAgo);
    setUp(kafka, 20, 2, 40);
    await runUntilDone(kafka, fencing, 60, 2, { stateDir });
    checkTotals(kafka, 60);
  });
});
