// What `exactly run` (and `pnpm start --example ledger`) loads: the processor on the topics and the table named by
// EXACTLY_TOPIC_SUFFIX (empty by default). For the demo it also finds the database and creates its table, which a
// real deployment does once, itself (LEDGER_DDL): the database is DATABASE_URL, else the local one of
// `exactly postgres start` (a --postgres URL comes first).
import { findSharedPostgres } from '@exactly/testkit';
import pg from 'pg';
import { ledgerDdl, ledgerTable, ledgerWriter } from './processor.js';

const suffix = process.env.EXACTLY_TOPIC_SUFFIX ?? '';
const flag = process.argv.indexOf('--postgres');
const url =
  (flag >= 0 ? process.argv[flag + 1] : undefined) ||
  process.env.DATABASE_URL?.trim() ||
  (await findSharedPostgres())?.url;
if (url !== undefined) {
  if (flag < 0) process.env.DATABASE_URL = url; // run() reads it when no --postgres is given
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    await db.query(ledgerDdl(ledgerTable(suffix)));
  } finally {
    await db.end();
  }
}

export default ledgerWriter(suffix);
