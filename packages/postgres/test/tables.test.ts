import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TableRow } from '@exactly/core';
import { table } from '@exactly/postgres';
import { LocalPostgres, type Postgres, startPostgres, waitUntil } from '@exactly/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FencedError, PostgresTables } from '../src/tables.js';

/**
 * The database side of the PostgreSQL participant, on a real server: fencing tokens, batches committed with
 * their offsets or prepared, and prepared transactions left by a dead owner resolved by the next.
 */
let server: Postgres;
let admin: pg.Client;
let processorCount = 0;

beforeAll(async () => {
  server = await startPostgres({ localOnly: true });
  admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(
    'CREATE TABLE ledger_entries (transfer_id text, account text, cents bigint, UNIQUE (transfer_id, account))',
  );
}, 60_000);

afterAll(async () => {
  await admin?.end();
  await server?.stop();
});

const entries = table<{ transfer_id: string; account: string; cents: number }>('ledger_entries', {
  onConflict: { columns: ['transfer_id', 'account'], action: 'update' },
});
const rowsOf = (id: string, cents: number): TableRow[] => [
  { output: 'entries', table: entries, row: { transfer_id: id, account: 'a', cents: -cents } },
  { output: 'entries', table: entries, row: { transfer_id: id, account: 'b', cents } },
];
const count = async (id: string) =>
  Number((await admin.query('SELECT count(*) AS n FROM ledger_entries WHERE transfer_id = $1', [id])).rows[0].n);
const never = async () => 'rollback' as const;

/** Two owners of one processor's partitions, as two instances would be. */
async function owners(twoPhase = true) {
  const processor = `ledger-${++processorCount}`;
  const a = await PostgresTables.open(server.url, processor, 'transfers', { twoPhase });
  const b = await PostgresTables.open(server.url, processor, 'transfers', { twoPhase });
  return { a, b, close: () => Promise.all([a.close(), b.close()]) };
}

describe('the PostgreSQL participant, database side', () => {
  test('table-only: rows and next offsets in one transaction; the next owner starts there, with a higher token', async () => {
    const { a, b, close } = await owners(false);
    try {
      const claimed = await a.claim([0, 1], never);
      expect(claimed.get(0)).toMatchObject({ token: '1', nextOffset: null });
      const batch = await a.begin(claimed.values());
      await batch.write(rowsOf('t-1', 250));
      await batch.commitWithOffsets(new Map([[0, 7n]]));
      expect(await count('t-1')).toBe(2);
      const next = await b.claim([0, 1], never);
      expect(next.get(0)).toMatchObject({ token: '2', nextOffset: '7' });
      expect(next.get(1)).toMatchObject({ token: '2', nextOffset: null });
    } finally {
      await close();
    }
  });

  test('a zombie cannot commit once a new owner has claimed: its next batch is refused at begin', async () => {
    const { a, b, close } = await owners(false);
    try {
      const stale = await a.claim([0], never);
      await b.claim([0], never);
      await expect(a.begin(stale.values())).rejects.toThrow(FencedError);
      expect(await count('t-zombie')).toBe(0);
    } finally {
      await close();
    }
  });

  test("a claim waits for the batch the old owner has open, and that batch's commit is its last", async () => {
    const { a, b, close } = await owners(false);
    try {
      const held = await a.claim([0], never);
      const open = await a.begin(held.values());
      await open.write(rowsOf('t-open', 10));
      let claimed = false;
      const claim = b.claim([0], never).then((c) => {
        claimed = true;
        return c;
      });
      // The new owner's claim is blocked on the partition's row, which the open batch holds.
      await waitUntil(
        async () =>
          (
            await admin.query(
              "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO exactly_partitions%'",
            )
          ).rowCount === 1,
        'the claim waiting for the lock',
        10_000,
      );
      expect(claimed).toBe(false);
      await open.commitWithOffsets(new Map([[0, 3n]]));
      expect((await claim).get(0)).toMatchObject({ token: '2', nextOffset: '3' });
      const late = await a.begin(held.values()).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(late).toBeInstanceOf(FencedError);
    } finally {
      await close();
    }
  });

  test.each([
    ['rollback', 0],
    ['commit', 2],
  ] as const)(
    'a prepared batch its owner never finished is resolved by the next owner as Kafka decided (%s)',
    async (decision, rows) => {
      const { a, b, close } = await owners();
      const id = `t-prepared-${decision}`;
      try {
        const held = await a.claim([0, 1], never);
        const batch = await a.begin(held.values(), new Map([[0, 12n]]));
        await batch.write(rowsOf(id, 99));
        const gid = await batch.prepare();
        // The owner dies here, between PREPARE and its Kafka commit (or between that and COMMIT PREPARED).
        const asked: string[] = [];
        const claimed = await b.claim([0, 1], async (pending) => {
          asked.push(`${pending.gid} ${JSON.stringify(pending.ends)}`);
          return decision;
        });
        expect(asked).toEqual([`${gid} {"0":"12"}`]);
        expect(claimed.get(0)?.token).toBe('2');
        expect(await count(id)).toBe(rows);
        expect((await admin.query('SELECT gid FROM pg_prepared_xacts')).rows).toEqual([]);
        expect((await admin.query('SELECT gid FROM exactly_pending')).rows).toEqual([]);
        // The old owner, back (a zombie), finishing its own: nothing changes.
        await a.resolve(gid, 'commit');
        expect(await count(id)).toBe(rows);
      } finally {
        await close();
      }
    },
  );

  test("a claim leaves alone another live instance's batch on partitions it still owns, prepared or about to be", async () => {
    const { a, b, close } = await owners();
    try {
      const mine = await a.claim([0], never);
      const batch = await a.begin(mine.values(), new Map([[0, 3n]]));
      await batch.write(rowsOf('t-live', 7));
      const gid = await batch.prepare();
      await a.note(admin, 'exactly:about-to-prepare', new Map([[0, 4n]])); // a note whose PREPARE has not come yet
      const asked: string[] = [];
      await b.claim([1], async (pending) => {
        asked.push(pending.gid);
        return 'rollback';
      });
      expect(asked).toEqual([]);
      expect((await admin.query('SELECT gid FROM pg_prepared_xacts')).rows).toEqual([{ gid }]);
      expect((await admin.query('SELECT gid FROM exactly_pending ORDER BY gid')).rows.map((r) => r.gid)).toContain(
        'exactly:about-to-prepare',
      );
      await a.resolve(gid, 'commit'); // its Kafka commit went through: its rows appear
      expect(await count('t-live')).toBe(2);
      await admin.query("DELETE FROM exactly_pending WHERE gid = 'exactly:about-to-prepare'");
    } finally {
      await close();
    }
  });

  test('an upsert batch that meets a key twice keeps the last row, as the TestDriver does', async () => {
    const { a, close } = await owners(false);
    try {
      const held = await a.claim([0], never);
      const batch = await a.begin(held.values());
      await batch.write([...rowsOf('t-twice', 1), ...rowsOf('t-twice', 2)]);
      await batch.commitWithOffsets(new Map([[0, 2n]]));
      const { rows } = await admin.query(
        "SELECT account, cents::int AS cents FROM ledger_entries WHERE transfer_id = 't-twice' ORDER BY account",
      );
      expect(rows).toEqual([
        { account: 'a', cents: -2 },
        { account: 'b', cents: 2 },
      ]);
    } finally {
      await close();
    }
  });

  test('a prepared batch survives a database crash, and is resolved after it', async () => {
    const local = server.local as LocalPostgres;
    const { a, b, close } = await owners();
    try {
      const held = await a.claim([0], never);
      const batch = await a.begin(held.values(), new Map([[0, 1n]]));
      await batch.write(rowsOf('t-crash', 5));
      await batch.prepare();
      await admin.end();
      await local.crash();
      await local.start();
      admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      await waitUntil(async () => (await b.pending().catch(() => [])).length === 1, 'the prepared batch found', 10_000);
      await b.claim([0], async () => 'commit');
      expect(await count('t-crash')).toBe(2);
    } finally {
      await close();
    }
  });

  test('a server with two-phase commit off is refused at start, saying what to set', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'exactly-postgres-no2pc-'));
    const off = await LocalPostgres.start({ dir, maxPreparedTransactions: 0 });
    try {
      await expect(PostgresTables.open(off.url, 'p', 't', { twoPhase: true })).rejects.toThrow(
        /two-phase commit off \(max_prepared_transactions = 0\).*set max_prepared_transactions/,
      );
      const tableOnly = await PostgresTables.open(off.url, 'p', 't', { twoPhase: false });
      await tableOnly.close();
    } finally {
      await off.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
