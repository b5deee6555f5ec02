// `pnpm bench:pg`: the two PostgreSQL clients considered for the PostgreSQL participant (issue 17), side by side
// on what the participant does per batch: BEGIN, check the partition's fencing token, insert the batch's rows,
// then either PREPARE TRANSACTION + COMMIT PREPARED (two-phase, with Kafka's commit between) or COMMIT (the
// table-only path, offsets in the same transaction). Writes the "pg-clients" block of docs/benchmarks.md.
import { parseArgs } from 'node:util';
import { startPostgres } from '@exactly/testkit';
import pg from 'pg';
import postgres from 'postgres';
import { writeBlock } from '../doc-blocks.js';
import { median } from '../stats.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    batches: { type: 'string', default: '200' },
    rows: { type: 'string', default: '500' },
    runs: { type: 'string', default: '3' },
  },
});
const batches = Number(values.batches);
const rowsPerBatch = Number(values.rows);
const runs = Number(values.runs);
const log = (line: string) => process.stdout.write(`${line}\n`);

type Mode = 'two-phase' | 'one-phase';

interface Client {
  readonly name: string;
  /** One batch: its rows under the fencing check, prepared and committed (two-phase) or committed. */
  batch(mode: Mode, batch: number, rows: readonly Row[]): Promise<void>;
  close(): Promise<void>;
}

interface Row {
  readonly transferId: string;
  readonly account: string;
  readonly cents: number;
}

const SETUP = `
  DROP TABLE IF EXISTS ledger_entries; DROP TABLE IF EXISTS exactly_fencing;
  CREATE TABLE ledger_entries (transfer_id text NOT NULL, account text NOT NULL, cents bigint NOT NULL);
  CREATE TABLE exactly_fencing (processor text, partition int, token bigint, PRIMARY KEY (processor, partition));
  INSERT INTO exactly_fencing VALUES ('bench', 0, 1);`;
const FENCE = "SELECT token FROM exactly_fencing WHERE processor = 'bench' AND partition = 0 FOR SHARE";

/** node-postgres: the reference client; the rows as three arrays through unnest (one parameter per column). */
async function nodePostgres(url: string): Promise<Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    name: 'pg (node-postgres) 8',
    async batch(mode, batch, rows) {
      await client.query('BEGIN');
      await client.query(FENCE);
      await client.query(
        'INSERT INTO ledger_entries (transfer_id, account, cents) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])',
        [rows.map((r) => r.transferId), rows.map((r) => r.account), rows.map((r) => r.cents)],
      );
      if (mode === 'one-phase') {
        await client.query('COMMIT');
        return;
      }
      await client.query(`PREPARE TRANSACTION 'bench-${batch}'`);
      await client.query(`COMMIT PREPARED 'bench-${batch}'`);
    },
    close: () => client.end(),
  };
}

/** postgres.js: its own protocol implementation, pipelining; the rows through its multi-row insert helper. */
async function postgresJs(url: string): Promise<Client> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  return {
    name: 'postgres (postgres.js) 3',
    async batch(mode, batch, rows) {
      await sql.begin(async (tx) => {
        await tx.unsafe(FENCE);
        await tx`INSERT INTO ledger_entries ${tx(
          rows.map((r) => ({ transfer_id: r.transferId, account: r.account, cents: r.cents })),
        )}`;
        if (mode === 'two-phase') await tx.prepare(`bench-${batch}`);
      });
      if (mode === 'two-phase') await sql.unsafe(`COMMIT PREPARED 'bench-${batch}'`);
    },
    close: () => sql.end(),
  };
}

const server = await startPostgres({ localOnly: true });
const results = new Map<string, number[]>();
try {
  const setup = new pg.Client({ connectionString: server.url });
  await setup.connect();
  for (let run = 1; run <= runs; run++) {
    for (const open of [nodePostgres, postgresJs]) {
      for (const mode of ['one-phase', 'two-phase'] as const) {
        await setup.query(SETUP);
        const client = await open(server.url);
        const started = performance.now();
        for (let b = 0; b < batches; b++) {
          const rows = Array.from({ length: rowsPerBatch }, (_, i) => ({
            transferId: `t-${run}-${b}-${i}`,
            account: `account-${i % 1000}`,
            cents: i,
          }));
          await client.batch(mode, b, rows);
        }
        const ms = performance.now() - started;
        await client.close();
        const key = `${client.name}|${mode}`;
        results.set(key, [...(results.get(key) ?? []), ms / batches]);
        const [{ n } = { n: 0 }] = (await setup.query<{ n: number }>('SELECT count(*)::int AS n FROM ledger_entries'))
          .rows;
        if (n !== batches * rowsPerBatch) throw new Error(`${key}: ${n} rows, expected ${batches * rowsPerBatch}`);
        log(`run ${run} ${key.padEnd(40)} ${(ms / batches).toFixed(2)} ms per batch`);
      }
    }
  }
  await setup.end();
} finally {
  await server.stop();
}

const lines = [...results].map(([key, perBatch]) => {
  const [name, mode] = key.split('|');
  const ms = median(perBatch);
  return `| ${name} | ${mode} | ${ms.toFixed(2)} | ${Math.round((rowsPerBatch / ms) * 1000).toLocaleString('en-US')} |`;
});
const command = `pnpm bench:pg ${process.argv.slice(2).join(' ')}`.trim();
await writeBlock(
  'pg-clients',
  `${batches} batches of ${rowsPerBatch} rows per client and mode, ${runs} runs interleaved, medians; a local
PostgreSQL (${server.kind}; fsync off, as the tests run it). Each batch: BEGIN, the fencing row read FOR SHARE, the
rows in one INSERT, then COMMIT (one-phase: the table-only path) or PREPARE TRANSACTION and COMMIT PREPARED
(two-phase: Kafka's commit goes between them).

| client | mode | ms per batch | rows/s |
|---|---|---|---|
${lines.join('\n')}

Command: \`${command}\` (${new Date().toISOString()}). Node ${process.version}.`,
);
log('Written: the pg-clients block of docs/benchmarks.md');
