import { defineProcessor, json, string, topic } from '@exactly/core';
import { table } from '@exactly/postgres';
import { describe, expect, it } from 'vitest';
import { FakeKafka } from './fake/fake-kafka.js';
import { FakeTables } from './fake/fake-tables.js';
import { type Fencing, ids, produceItems, runOnFake, until } from './fake/run-on-fake.js';

// The database participant's paths through the transaction owner (docs/postgres.md), on an in-memory Kafka and
// an in-memory database that fail the calls a test names: what committed where, and in which order. The same
// paths run on a real broker and PostgreSQL in packages/postgres/test and in `pnpm chaos --postgres`.

const MODES: readonly Fencing[] = ['partition', 'instance'];
const PARTITIONS = 2;

interface Item {
  readonly id: number;
}

function setUp(count: number) {
  const kafka = new FakeKafka();
  const names = { id: 'ledger', input: 'ledger.in', left: 'ledger.left', dlq: 'ledger.dlq' };
  for (const t of [names.input, names.left, names.dlq]) kafka.createTopic(t, PARTITIONS);
  produceItems(kafka, names.input, count, PARTITIONS);
  const input = topic(names.input, { key: string(), value: json<Item>() });
  const rows = table<{ id: number }>('rows');
  const mixed = defineProcessor({
    id: names.id,
    input,
    outputs: { left: topic(names.left, { key: string(), value: json<Item>() }), rows },
    handle: ({ key, value }) => ({ left: [{ key, value }], rows: [{ value: { id: value.id } }] }),
  });
  const tableOnly = defineProcessor({
    id: names.id,
    input,
    outputs: { rows },
    handle: ({ value }) => ({ rows: [{ value: { id: value.id } }] }),
  });
  const tables = new FakeTables();
  const rowIds = () => tables.committedRows.map((r) => (r.row as { id: number }).id).sort((a, b) => a - b);
  const committed = () => {
    let total = 0n;
    for (let p = 0; p < PARTITIONS; p++) total += kafka.committedOffset(names.id, names.input, p) ?? 0n;
    return Number(total);
  };
  const inDatabase = () => [...tables.nextOffsets.values()].reduce((n, o) => n + Number(o), 0);
  return { kafka, names, mixed, tableOnly, tables, rowIds, committed, inDatabase };
}

const all = (count: number) => Array.from({ length: count }, (_, i) => i);

describe.each(MODES)('the database participant, %s fencing (fake Kafka, fake database)', (fencing) => {
  it('tables and topics: each input once as a row and once as a record; nothing left prepared', async () => {
    const s = setUp(60);
    const app = await runOnFake(s.kafka, fencing, s.mixed, {}, s.tables);
    try {
      await until(() => s.committed() === 60 && s.tables.prepared.size === 0, 'every input committed');
    } finally {
      await app.stop();
    }
    expect(s.rowIds()).toEqual(all(60));
    expect(ids(s.kafka.read(s.names.left))).toEqual(all(60));
    expect(s.inDatabase()).toBe(60);
  });

  it('never commits Kafka while one of its prepared transactions is unresolved: a failed COMMIT PREPARED is applied first', async () => {
    const s = setUp(40);
    s.tables.failNext('resolve');
    const pendingAtKafkaCommit: number[] = [];
    s.kafka.before('commit', () => {
      pendingAtKafkaCommit.push(s.tables.prepared.size);
    });
    const app = await runOnFake(s.kafka, fencing, s.mixed, { maxBatchRecords: 5 }, s.tables);
    try {
      await until(() => s.committed() === 40 && s.tables.prepared.size === 0, 'every input committed');
    } finally {
      await app.stop();
    }
    // At each Kafka commit only that transaction's own prepared one exists: the one left by the failed COMMIT
    // PREPARED was applied (1a) before the next transaction began.
    expect(Math.max(...pendingAtKafkaCommit)).toBe(1);
    expect(s.rowIds()).toEqual(all(40));
    expect(ids(s.kafka.read(s.names.left))).toEqual(all(40));
  });

  it('a failed COMMIT PREPARED on an input that then goes idle is applied in the background, not left locked', async () => {
    const s = setUp(10);
    s.tables.failNext('resolve');
    const app = await runOnFake(s.kafka, fencing, s.mixed, { maxBatchRecords: 100 }, s.tables);
    try {
      await until(() => s.committed() === 10 && s.tables.prepared.size === 0, 'every input committed, none prepared');
    } finally {
      await app.stop();
    }
    expect(s.rowIds()).toEqual(all(10));
  });

  it("Kafka's commit with an unknown outcome: the prepared transaction is decided from Kafka's offsets, once", async () => {
    const s = setUp(30);
    s.kafka.failNext('commit', 'abortable', { takeEffect: true });
    const app = await runOnFake(s.kafka, fencing, s.mixed, { maxBatchRecords: 5 }, s.tables);
    try {
      await until(() => s.committed() === 30 && s.tables.prepared.size === 0, 'every input committed');
    } finally {
      await app.stop();
    }
    expect(s.tables.log.some((line) => line.startsWith('commit prepared'))).toBe(true);
    expect(s.rowIds()).toEqual(all(30));
    expect(ids(s.kafka.read(s.names.left))).toEqual(all(30));
  });

  it('a failed PREPARE aborts Kafka too; the batch is redone, once', async () => {
    const s = setUp(30);
    s.tables.failNext('prepare');
    const app = await runOnFake(s.kafka, fencing, s.mixed, { maxBatchRecords: 5 }, s.tables);
    try {
      await until(() => s.committed() === 30 && s.tables.prepared.size === 0, 'every input committed');
    } finally {
      await app.stop();
    }
    expect(s.kafka.aborted(s.names.left).length).toBeGreaterThan(0);
    expect(s.rowIds()).toEqual(all(30));
    expect(ids(s.kafka.read(s.names.left))).toEqual(all(30));
  });

  it('a PREPARE whose answer was lost: the partitions are claimed again before the next transaction, which resolves it', async () => {
    const s = setUp(30);
    s.tables.failNext('prepare', undefined, { takeEffect: true });
    const app = await runOnFake(s.kafka, fencing, s.mixed, { maxBatchRecords: 5 }, s.tables);
    try {
      await until(() => s.committed() === 30 && s.tables.prepared.size === 0, 'every input committed, none prepared');
    } finally {
      await app.stop();
    }
    expect(s.tables.log.some((line) => line.startsWith('rollback prepared'))).toBe(true);
    expect(s.rowIds()).toEqual(all(30));
    expect(ids(s.kafka.read(s.names.left))).toEqual(all(30));
  });

  it('tables only: batches commit in the database alone, with their offsets; Kafka gets only copies of them', async () => {
    const s = setUp(50);
    const app = await runOnFake(s.kafka, fencing, s.tableOnly, { maxBatchRecords: 5 }, s.tables);
    try {
      await until(() => s.inDatabase() === 50, 'every input committed in the database');
    } finally {
      await app.stop();
    }
    expect(s.rowIds()).toEqual(all(50));
    expect(s.tables.prepared.size).toBe(0);
    expect(s.tables.log.filter((line) => line.startsWith('commit '))).not.toHaveLength(0);
    // The offsets' copies to Kafka's group (at most every 5 s): far fewer transactions than batches.
    expect(s.kafka.count('commit')).toBeLessThan(s.tables.log.filter((line) => line.startsWith('commit ')).length);
    expect(s.committed()).toBeLessThanOrEqual(50);
  });

  it('tables only: a COMMIT whose outcome is unknown is read back from the database, none lost, none twice', async () => {
    const s = setUp(30);
    s.tables.failNext('commitWithOffsets');
    const app = await runOnFake(s.kafka, fencing, s.tableOnly, { maxBatchRecords: 5 }, s.tables);
    try {
      await until(() => s.inDatabase() === 30, 'every input committed in the database');
    } finally {
      await app.stop();
    }
    expect(s.rowIds()).toEqual(all(30));
  });

  it('another owner claims a partition meanwhile: the fencing check refuses the batch; claimed again, none twice', async () => {
    const s = setUp(40);
    let claimedElsewhere = false;
    s.kafka.before('sendOffsets', () => {
      if (claimedElsewhere || s.committed() === 0) return;
      claimedElsewhere = true;
      s.tables.claimElsewhere(0);
    });
    const app = await runOnFake(s.kafka, fencing, s.mixed, { maxBatchRecords: 5 }, s.tables);
    try {
      await until(() => s.committed() === 40 && s.tables.prepared.size === 0, 'every input committed', 20_000);
    } finally {
      await app.stop();
    }
    expect(claimedElsewhere).toBe(true);
    expect(s.rowIds()).toEqual(all(40));
    expect(ids(s.kafka.read(s.names.left))).toEqual(all(40));
  });

  it('a row the database refuses makes its input a dead letter with the reason; the others commit once', async () => {
    const s = setUp(20);
    s.tables.refuseRows((row) => (row.row as { id: number }).id === 7);
    const app = await runOnFake(s.kafka, fencing, s.mixed, { maxBatchRecords: 5 }, s.tables);
    try {
      await until(() => s.committed() === 20 && s.tables.prepared.size === 0, 'every input committed');
    } finally {
      await app.stop();
    }
    const others = all(20).filter((id) => id !== 7);
    expect(s.rowIds()).toEqual(others);
    expect(ids(s.kafka.read(s.names.left))).toEqual(others);
    const dead = s.kafka.read(s.names.dlq);
    expect(dead.map((r) => r.key?.toString())).toEqual(['key-7']);
    expect(dead[0]?.headers['exactly.error.message']?.toString()).toContain('refused a row: check violated');
  });
});
