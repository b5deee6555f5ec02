import { ExactlyConfigError } from '@exactly/core';
import type pg from 'pg';

/**
 * The tables Exactly keeps in the user's database, beside theirs:
 * - `exactly_partitions`: per processor, input topic and partition, the owner's fencing token (raised by each new
 *   owner; every batch's transaction checks it) and, for table-only processors, the next offset to consume
 *   (committed with the rows: the offsets live in the database, not in Kafka).
 * - `exactly_pending`: a note per prepared transaction, written before PREPARE TRANSACTION: which partitions and
 *   offsets the batch covers, so that whoever finds it prepared can decide it from Kafka's committed offsets.
 */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS exactly_partitions (
  processor   text   NOT NULL,
  topic       text   NOT NULL,
  partition   int    NOT NULL,
  token       bigint NOT NULL,
  next_offset bigint,
  PRIMARY KEY (processor, topic, partition)
);
CREATE TABLE IF NOT EXISTS exactly_pending (
  gid       text        PRIMARY KEY,
  processor text        NOT NULL,
  topic     text        NOT NULL,
  ends      jsonb       NOT NULL,
  noted_at  timestamptz NOT NULL DEFAULT now()
);`;

/** Creates Exactly's tables if need be, and checks that the server allows two-phase commit. */
export async function ensureSchema(client: pg.ClientBase, { twoPhase }: { twoPhase: boolean }): Promise<void> {
  if (twoPhase) {
    const { rows } = await client.query<{ max_prepared_transactions: string }>('SHOW max_prepared_transactions');
    if (Number(rows[0]?.max_prepared_transactions ?? 0) === 0) {
      throw new ExactlyConfigError(
        'postgres',
        'this PostgreSQL server has two-phase commit off (max_prepared_transactions = 0), which a processor with ' +
          'tables and topics needs: set max_prepared_transactions to at least the number of processor instances ' +
          'writing to it (e.g. 64) in postgresql.conf, and restart the server',
      );
    }
  }
  // Two instances starting at once may both create: the loser's error is the winner's success.
  await client.query(SCHEMA).catch(async (error: { code?: string }) => {
    if (error.code !== '23505' && error.code !== '42P07') throw error;
  });
}
