import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Postgres, startPostgres } from '../src/index.js';
import { isAlive } from '../src/kafka/processes.js';

/**
 * The local PostgreSQL of the test kit (Debian's package, run as an unprivileged user when the caller is root):
 * two-phase commit on, a prepared transaction survives a crash, and stop leaves no process.
 */
let server: Postgres;

beforeAll(async () => {
  server = await startPostgres({ localOnly: true });
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

async function query<T extends pg.QueryResultRow>(sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('a local PostgreSQL', () => {
  test('has two-phase commit on', async () => {
    const [row] = await query<{ max_prepared_transactions: string }>('SHOW max_prepared_transactions');
    expect(Number(row?.max_prepared_transactions)).toBeGreaterThan(0);
  });

  test('keeps a prepared transaction across a crash, to be committed after', async () => {
    const local = server.local;
    if (!local) throw new Error('expected a local server');
    await query('CREATE TABLE crash_proof (id int)');
    const client = new pg.Client({ connectionString: server.url });
    client.on('error', () => {}); // the crash ends its connection
    await client.connect();
    await client.query('BEGIN');
    await client.query('INSERT INTO crash_proof VALUES (1)');
    await client.query("PREPARE TRANSACTION 'exactly-test-1'");
    const crashed = local.pid as number;
    await local.crash();
    expect(isAlive(crashed)).toBe(false);
    await client.end().catch(() => {});
    await local.start();
    expect(await query('SELECT gid FROM pg_prepared_xacts')).toEqual([{ gid: 'exactly-test-1' }]);
    expect(await query('SELECT count(*)::int AS n FROM crash_proof')).toEqual([{ n: 0 }]);
    await query("COMMIT PREPARED 'exactly-test-1'");
    expect(await query('SELECT count(*)::int AS n FROM crash_proof')).toEqual([{ n: 1 }]);
    expect(await query('SELECT gid FROM pg_prepared_xacts')).toEqual([]);
  });

  test('stop() ends the server process', async () => {
    const other = await startPostgres({ localOnly: true });
    const pid = other.local?.pid as number;
    expect(isAlive(pid)).toBe(true);
    await other.stop();
    expect(isAlive(pid)).toBe(false);
  });
});
