import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineProcessor, json, string, topic } from '@exactly/core';
import { table } from '@exactly/postgres';
import { type RunningProcessor, run } from '@exactly/runtime';
import {
  createTopics,
  LocalPostgres,
  type Postgres,
  readTopic,
  startPostgres,
  testClient,
  uniqueTopic,
  waitUntil,
} from '@exactly/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { CLIENTS } from '../../runtime/test/helpers.js';

/**
 * Table outputs through run(), on a real broker and a real PostgreSQL, with both clients: rows once, with their
 * topic outputs (two-phase commit) or alone (offsets in the database), and nothing left prepared. Checked by
 * independent readers (SQL, a read_committed consumer).
 */
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

interface Transfer {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly cents: number;
}
type Entry = { transfer_id: string; account: string; cents: number };

/** A fresh ledger: its input topic, its table, and a processor writing both rows and (unless `tableOnly`) receipts. */
async function ledger(name: string, partitions: number, tableOnly: boolean, columns = '') {
  const id = uniqueTopic(name);
  const tableName = id.replace(/[^a-zA-Z0-9_]/g, '_');
  await db.query(
    `CREATE TABLE ${tableName} (${columns || 'transfer_id text NOT NULL, account text NOT NULL, cents bigint NOT NULL'})`,
  );
  const input = `${id}.transfers`;
  const receipts = `${id}.receipts`;
  await createTopics(
    brokers,
    [input, receipts, `${id}.dlq`].map((t) => ({ name: t, partitions })),
  );
  const transfers = topic(input, { key: string(), value: json<Transfer>() });
  const entries = table<Entry>(tableName);
  const handle = ({ value: t }: { value: Transfer }) => {
    if (t.cents < 0) throw new Error(`a negative amount: ${t.cents}`);
    return {
      entries: [
        { value: { transfer_id: t.id, account: t.from, cents: -t.cents } },
        { value: { transfer_id: t.id, account: t.to, cents: t.cents } },
      ],
      receipts: [{ key: t.id, value: { id: t.id } }],
    };
  };
  const processor = tableOnly
    ? defineProcessor({
        id,
        input: transfers,
        outputs: { entries },
        handle: (record) => ({ entries: handle(record).entries }),
      })
    : defineProcessor({
        id,
        input: transfers,
        outputs: { entries, receipts: topic(receipts, { key: string(), value: json<{ id: string }>() }) },
        handle,
      });
  /** Transfers t-from..; those in `bad` have a negative amount (the handler refuses them), those in `self` pay themselves. */
  const send = async (from: number, count: number, bad: readonly number[] = [], self: readonly number[] = []) => {
    // Idempotent: KafkaJS retries a whole send when one partition's leader is not known yet, which would write the
    // partitions that succeeded twice (a new topic's first send meets it).
    const producer = testClient(brokers).producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const messages = Array.from({ length: count }, (_, i) => {
      const n = from + i;
      const cents = bad.includes(n) ? -1 : n + 1;
      const to = self.includes(n) ? `a-${n % 7}` : `b-${n % 5}`;
      return { key: `t-${n}`, value: JSON.stringify({ id: `t-${n}`, from: `a-${n % 7}`, to, cents }) };
    });
    await producer.send({ topic: input, messages });
    await producer.disconnect();
  };
  /** Rows per transfer id, as the database has them committed. */
  const rowsPerTransfer = async () => {
    const { rows } = await db.query<{ transfer_id: string; n: string }>(
      `SELECT transfer_id, count(*) AS n FROM ${tableName} GROUP BY transfer_id`,
    );
    return new Map(rows.map((r) => [r.transfer_id, Number(r.n)]));
  };
  return { id, input, receipts, dlq: `${id}.dlq`, processor, send, rowsPerTransfer, tableName };
}

/** What the processor left in Exactly's tables: prepared transactions and notes of its own. */
async function leftPrepared(processor: string) {
  const prepared = await db.query("SELECT gid FROM pg_prepared_xacts WHERE gid LIKE 'exactly:%'");
  const notes = await db.query('SELECT gid FROM exactly_pending WHERE processor = $1', [processor]);
  return { prepared: prepared.rowCount, notes: notes.rowCount };
}

const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `t-${from + i}`);

describe.each(CLIENTS)('table outputs through run() with the %s client (real broker, real PostgreSQL)', (client) => {
  const options = (extra: object = {}) => ({
    brokers,
    client,
    postgres: server.url,
    logLevel: (process.env.TEST_LOG_LEVEL ?? 'silent') as 'silent',
    commitIntervalMs: 20,
    maxBatchRecords: 50,
    ...extra,
  });

  test('tables and topics: each transfer has its two rows and its one receipt, and nothing stays prepared', async () => {
    const l = await ledger('pg-mixed', 3, false);
    await l.send(0, 400);
    const running = await run(l.processor, options());
    try {
      await waitUntil(async () => (await l.rowsPerTransfer()).size === 400, 'the rows of 400 transfers', 60_000);
      const receipts = await readTopic(brokers, l.receipts, { minRecords: 400, timeoutMs: 30_000 });
      expect(receipts.map((r) => r.key?.toString()).sort()).toEqual(ids(400).sort());
      const rows = await l.rowsPerTransfer();
      expect([...rows.values()].every((n) => n === 2)).toBe(true);
      expect((await running.metrics()).deadLetters).toBe(0);
    } finally {
      await running.stop();
    }
    expect(await leftPrepared(l.id)).toEqual({ prepared: 0, notes: 0 });
  });

  test('tables only: rows and offsets in the database alone; a restart goes on from there, none twice', async () => {
    const l = await ledger('pg-table-only', 2, true);
    await l.send(0, 300);
    let running: RunningProcessor = await run(l.processor, options());
    try {
      await waitUntil(async () => (await l.rowsPerTransfer()).size === 300, 'the rows of 300 transfers', 60_000);
    } finally {
      await running.stop();
    }
    const { rows: positions } = await db.query<{ partition: number; next_offset: string }>(
      'SELECT partition, next_offset::text FROM exactly_partitions WHERE processor = $1 ORDER BY partition',
      [l.id],
    );
    const total = positions.reduce((sum, p) => sum + Number(p.next_offset), 0);
    expect(total).toBe(300); // each partition's next offset is past its last record: the database has them all
    // Kafka's group has offsets too (copied for lag monitors), never ahead of the database's.
    const admin = testClient(brokers).admin();
    await admin.connect();
    const [group] = await admin.fetchOffsets({ groupId: l.id, topics: [l.input] });
    await admin.disconnect();
    const inKafka = (group?.partitions ?? []).map((p) => Number(p.offset));
    expect(inKafka.some((offset) => offset > 0)).toBe(true);
    for (const p of group?.partitions ?? []) {
      const inDatabase = positions.find((row) => row.partition === p.partition);
      expect(Number(p.offset)).toBeLessThanOrEqual(Number(inDatabase?.next_offset ?? -1));
    }
    await l.send(300, 100);
    running = await run(l.processor, options());
    try {
      await waitUntil(async () => (await l.rowsPerTransfer()).size === 400, 'the rows of 400 transfers', 60_000);
    } finally {
      await running.stop();
    }
    const rows = await l.rowsPerTransfer();
    expect([...rows.entries()].filter(([, n]) => n !== 2)).toEqual([]);
    expect(await leftPrepared(l.id)).toEqual({ prepared: 0, notes: 0 });
  });

  test('tables only, with bad records: each becomes a dead letter with its reason, the others rows once', async () => {
    const l = await ledger('pg-dead-letters', 2, true);
    const bad = [5, 77, 150];
    await l.send(0, 200, bad);
    const running = await run(l.processor, options());
    try {
      await waitUntil(async () => (await l.rowsPerTransfer()).size === 197, 'the rows of 197 transfers', 60_000);
      const dead = await readTopic(brokers, l.dlq, { minRecords: 3, timeoutMs: 30_000 });
      expect(dead.map((r) => r.key?.toString()).sort()).toEqual(bad.map((n) => `t-${n}`).sort());
      expect(dead.every((r) => (r.headers['exactly.error.message'] ?? '').includes('a negative amount'))).toBe(true);
    } finally {
      await running.stop();
    }
    const rows = await l.rowsPerTransfer();
    expect([...rows.values()].every((n) => n === 2)).toBe(true);
    expect(bad.some((n) => rows.has(`t-${n}`))).toBe(false);
    expect(await leftPrepared(l.id)).toEqual({ prepared: 0, notes: 0 });
  });
  test('rows the database refuses (a duplicate key) make their input a dead letter with the reason; the rest commit once', async () => {
    const l = await ledger(
      'pg-refused',
      2,
      false,
      'transfer_id text NOT NULL, account text NOT NULL, cents bigint NOT NULL, PRIMARY KEY (transfer_id, account)',
    );
    const self = [3, 40, 99];
    await l.send(0, 120, [], self);
    const running = await run(l.processor, options());
    try {
      await waitUntil(async () => (await l.rowsPerTransfer()).size === 117, 'the rows of 117 transfers', 60_000);
      const dead = await readTopic(brokers, l.dlq, { minRecords: 3, timeoutMs: 30_000 });
      expect(dead.map((r) => r.key?.toString()).sort()).toEqual(self.map((n) => `t-${n}`).sort());
      for (const letter of dead) {
        expect(letter.headers['exactly.error.message']).toMatch(/refused a row: duplicate key value violates/);
      }
      const receipts = await readTopic(brokers, l.receipts, { minRecords: 117, timeoutMs: 30_000 });
      expect(receipts.map((r) => r.key?.toString()).sort()).toEqual(
        ids(120)
          .filter((id) => !self.map((n) => `t-${n}`).includes(id))
          .sort(),
      );
    } finally {
      await running.stop();
    }
    expect([...(await l.rowsPerTransfer()).values()].every((n) => n === 2)).toBe(true);
    expect(await leftPrepared(l.id)).toEqual({ prepared: 0, notes: 0 });
  });

  test('a deferred constraint refuses a row only at PREPARE: its input is a dead letter too, the rest once', async () => {
    const l = await ledger(
      'pg-deferred',
      2,
      false,
      'transfer_id text NOT NULL, account text NOT NULL, cents bigint NOT NULL, ' +
        'UNIQUE (transfer_id, account) DEFERRABLE INITIALLY DEFERRED',
    );
    const self = [8, 51];
    await l.send(0, 80, [], self);
    const running = await run(l.processor, options());
    try {
      await waitUntil(async () => (await l.rowsPerTransfer()).size === 78, 'the rows of 78 transfers', 60_000);
      const dead = await readTopic(brokers, l.dlq, { minRecords: 2, timeoutMs: 30_000 });
      expect(dead.map((r) => r.key?.toString()).sort()).toEqual(self.map((n) => `t-${n}`).sort());
    } finally {
      await running.stop();
    }
    expect([...(await l.rowsPerTransfer()).values()].every((n) => n === 2)).toBe(true);
    expect(await leftPrepared(l.id)).toEqual({ prepared: 0, notes: 0 });
  });

  test('more partitions than the connection pool has room for (24, a batch each at once): every row once, no stall', async () => {
    const l = await ledger('pg-many-partitions', 24, false);
    await l.send(0, 2400);
    const running = await run(l.processor, options({ maxBatchRecords: 20 }));
    try {
      await waitUntil(async () => (await l.rowsPerTransfer()).size === 2400, 'the rows of 2,400 transfers', 90_000);
      const receipts = await readTopic(brokers, l.receipts, { minRecords: 2400, timeoutMs: 60_000 });
      expect(receipts).toHaveLength(2400);
    } finally {
      await running.stop();
    }
    expect([...(await l.rowsPerTransfer()).values()].every((n) => n === 2)).toBe(true);
    expect(await leftPrepared(l.id)).toEqual({ prepared: 0, notes: 0 });
  }, 150_000);

  test('rows that do not fit the table (a column it lacks) stop the processor, naming the column', async () => {
    const l = await ledger('pg-no-column', 1, false, 'transfer_id text NOT NULL, cents bigint NOT NULL');
    await l.send(0, 5);
    const running = await run(l.processor, options());
    const stopped = await running.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String(stopped)).toMatch(/column "account" of relation .* does not exist.*must match the table's columns/);
    expect((await l.rowsPerTransfer()).size).toBe(0);
    expect(await readTopic(brokers, l.receipts, { timeoutMs: 5_000 })).toEqual([]);
    expect(await leftPrepared(l.id)).toEqual({ prepared: 0, notes: 0 });
  });
});

/**
 * An owner that died between the phases, as a table of Exactly's shows it: its batch's rows prepared (transfers
 * t-0..t-4 of partition 0, ends 5), and, if `kafkaCommitted`, the group's offset already at 5 (Kafka's decision).
 */
async function deadOwner(l: Awaited<ReturnType<typeof ledger>>, kafkaCommitted: boolean) {
  const { PostgresTables } = await import('../src/tables.js');
  const dead = await PostgresTables.open(server.url, l.id, l.input, { twoPhase: true });
  try {
    const claims = await dead.claim([0], async () => 'rollback');
    const batch = await dead.begin(claims.values(), new Map([[0, 5n]]));
    const entries = table<Entry>(l.tableName);
    await batch.write(
      ids(5).flatMap((id) => [
        { output: 'entries', table: entries, row: { transfer_id: id, account: 'x', cents: -1 } },
        { output: 'entries', table: entries, row: { transfer_id: id, account: 'y', cents: 1 } },
      ]),
    );
    await batch.prepare();
  } finally {
    await dead.close();
  }
  if (kafkaCommitted) {
    const admin = testClient(brokers).admin();
    await admin.connect();
    await admin.setOffsets({ groupId: l.id, topic: l.input, partitions: [{ partition: 0, offset: '5' }] });
    await admin.disconnect();
  }
}

describe.each(CLIENTS)('a prepared transaction a dead owner left, with the %s client', (client) => {
  const options = { client, postgres: '', logLevel: 'silent' as const, commitIntervalMs: 20 };

  test('Kafka committed its batch: the next owner commits it at assignment, with no new records to wake it', async () => {
    const l = await ledger('pg-dead-decided', 1, false);
    await l.send(0, 5);
    await deadOwner(l, true);
    const running = await run(l.processor, { ...options, brokers, postgres: server.url });
    try {
      await waitUntil(
        async () => (await leftPrepared(l.id)).prepared === 0,
        'the prepared transaction resolved',
        30_000,
      );
      expect(await l.rowsPerTransfer()).toEqual(new Map(ids(5).map((id) => [id, 2])));
      const { rows } = await db.query(`SELECT DISTINCT account FROM ${l.tableName} ORDER BY account`);
      expect(rows.map((r) => r.account)).toEqual(['x', 'y']); // the dead owner's rows, not redone
    } finally {
      await running.stop();
    }
    expect(await readTopic(brokers, l.receipts, { timeoutMs: 5_000 })).toEqual([]);
  });

  test('Kafka never committed its batch: the next owner rolls it back and does the batch itself, once', async () => {
    const l = await ledger('pg-dead-undecided', 1, false);
    await l.send(0, 5);
    await deadOwner(l, false);
    const running = await run(l.processor, { ...options, brokers, postgres: server.url });
    try {
      await waitUntil(async () => (await l.rowsPerTransfer()).size === 5, 'the rows of 5 transfers', 30_000);
      const receipts = await readTopic(brokers, l.receipts, { minRecords: 5, timeoutMs: 30_000 });
      expect(receipts.map((r) => r.key?.toString()).sort()).toEqual(ids(5));
    } finally {
      await running.stop();
    }
    expect(await l.rowsPerTransfer()).toEqual(new Map(ids(5).map((id) => [id, 2])));
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM ${l.tableName} WHERE account IN ('x', 'y')`);
    expect(rows[0].n).toBe(0);
    expect(await leftPrepared(l.id)).toEqual({ prepared: 0, notes: 0 });
  });
});

describe('table outputs: configuration errors at start', () => {
  test('a processor with tables and topics on a server with two-phase commit off stops at start, saying what to set', async () => {
    const l = await ledger('pg-no-2pc', 1, false);
    const dir = await mkdtemp(join(tmpdir(), 'exactly-postgres-no2pc-'));
    const off = await LocalPostgres.start({ dir, maxPreparedTransactions: 0 });
    try {
      await expect(run(l.processor, { brokers, postgres: off.url, logLevel: 'silent' })).rejects.toThrow(
        /two-phase commit off \(max_prepared_transactions = 0\).*set max_prepared_transactions/,
      );
    } finally {
      await off.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a processor with tables and no database stops at start, saying how to give one', async () => {
    const l = await ledger('pg-no-url', 1, false);
    const saved = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      await expect(run(l.processor, { brokers, logLevel: 'silent' })).rejects.toThrow(
        /writes to table\(s\) .*--postgres URL, or DATABASE_URL/,
      );
    } finally {
      if (saved !== undefined) process.env.DATABASE_URL = saved;
    }
  });
});
