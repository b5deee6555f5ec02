import { isTable, type Processor } from '@exactly/core';
import { run } from '@exactly/runtime';
import { type Postgres, readTopic, runExampleOnBroker, startPostgres, TestDriver } from '@exactly/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import example from '../src/example.js';
import { ledgerDdl, ledgerWriter } from '../src/processor.js';

const brokers = inject('kafkaBrokers');
let server: Postgres;
let db: pg.Client;

beforeAll(async () => {
  server = await startPostgres({ localOnly: true });
  db = new pg.Client({ connectionString: server.url });
  await db.connect();
}, 60_000);

afterAll(async () => {
  await db?.end();
  await server?.stop();
});

describe('ledger on a real broker and a real PostgreSQL', () => {
  it('each good transfer has its two rows once and its one receipt once, each bad one a dead letter and no row, as a TestDriver computes', async () => {
    const records = 400;
    let processor: Processor | undefined;
    const verdict = await runExampleOnBroker(example, {
      brokers,
      records,
      start: async (p) => {
        processor = p;
        const entries = p.outputs.entries;
        if (!entries || !isTable(entries)) throw new Error('the ledger has no table output named entries');
        await db.query(ledgerDdl(entries.name)); // what a user runs once (LEDGER_DDL), here on this run's table
        return run(p, {
          brokers,
          postgres: server.url,
          provenance: true,
          logLevel: (process.env.TEST_LOG_LEVEL ?? 'silent') as 'silent',
          commitIntervalMs: 20,
          maxBatchRecords: 50,
        });
      },
    });
    if (!processor) throw new Error('the processor never started');
    const tableName = (processor.outputs.entries as { name: string }).name;
    const receiptsTopic = (processor.outputs.receipts as { name: string }).name;

    // The same records through the TestDriver: what the database and the topics must hold.
    const driver = new TestDriver(ledgerWriter());
    for (let i = 0; i < records; i++) {
      const { key, value } = example.record(i);
      await driver.send(key as string, value as Parameters<typeof driver.send>[1]);
    }
    const expectedRows = driver.rows('entries');
    const good = [...new Set(expectedRows.map((r) => r.transfer_id))].sort();
    const bad = driver
      .deadLetters()
      .map((d) => d.key?.toString() ?? '')
      .sort();
    expect(bad.length).toBe(24); // 3 kinds, one in 50 each
    expect(good.length).toBe(records - bad.length);

    // Kafka, read_committed: each good transfer's receipt once, each bad one once in the dead-letter topic.
    expect(verdict).toMatchObject({ ok: true, inputs: records, missing: 0, duplicated: 0, abortedRead: 0 });
    expect(verdict.outputs.map((o) => o.records)).toEqual([good.length, bad.length]);
    const receipts = await readTopic(brokers, receiptsTopic, { isolation: 'read_committed', timeoutMs: 30_000 });
    expect(receipts.map((r) => r.key?.toString()).sort()).toEqual(good);
    const dead = await readTopic(brokers, processor.deadLetter, { isolation: 'read_committed', timeoutMs: 30_000 });
    expect(dead.map((r) => r.key?.toString()).sort()).toEqual(bad);

    // PostgreSQL: exactly the rows the TestDriver wrote, none for a bad transfer, summing to zero.
    const { rows } = await db.query<{ transfer_id: string; account: string; cents: string }>(
      `SELECT transfer_id, account, cents::text FROM ${tableName}`,
    );
    const key = (r: { transfer_id: string; account: string; cents: number | string }) =>
      `${r.transfer_id}|${r.account}|${r.cents}`;
    expect(rows.map(key).sort()).toEqual(expectedRows.map(key).sort());
    const perTransfer = await db.query<{ transfer_id: string; n: number; sum: string }>(
      `SELECT transfer_id, count(*)::int AS n, sum(cents)::text AS sum FROM ${tableName} GROUP BY transfer_id`,
    );
    expect(perTransfer.rows.map((r) => r.transfer_id).sort()).toEqual(good);
    expect(perTransfer.rows.filter((r) => r.n !== 2 || r.sum !== '0')).toEqual([]);
    const total = await db.query<{ sum: string }>(`SELECT coalesce(sum(cents), 0)::text AS sum FROM ${tableName}`);
    expect(total.rows[0]?.sum).toBe('0');

    // Nothing left prepared: every PREPARE TRANSACTION was committed (or rolled back), and its note is gone.
    const prepared = await db.query("SELECT gid FROM pg_prepared_xacts WHERE gid LIKE 'exactly:%'");
    expect(prepared.rowCount).toBe(0);
    const notes = await db.query('SELECT gid FROM exactly_pending WHERE processor = $1', [processor.id]);
    expect(notes.rowCount).toBe(0);
  });
});
