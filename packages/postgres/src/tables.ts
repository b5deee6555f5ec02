import { createHash, randomUUID } from 'node:crypto';
import type { TableRow } from '@exactly/core';
import pg from 'pg';
import { classifyWriteError, FencedError } from './errors.js';
import { insertRows } from './insert-rows.js';
import { ensureSchema } from './schema.js';

/** A partition this owner holds: its fencing token, and (table-only processors) where consuming goes on. */
export interface Claim {
  readonly partition: number;
  readonly token: string;
  /** The next offset to consume, as the last committed batch left it; null: none committed here yet. */
  readonly nextOffset: string | null;
}

/** A prepared transaction's note: the batch's next offset per input partition. */
export interface PendingBatch {
  readonly gid: string;
  readonly ends: Readonly<Record<string, string>>;
}

/** What a prepared batch becomes: committed if Kafka committed its batch, rolled back otherwise. */
export type Decide = (pending: PendingBatch) => Promise<'commit' | 'rollback'>;

export { FencedError } from './errors.js';

/** How long a claim waits for a row lock before it looks again for prepared transactions to resolve. */
const CLAIM_LOCK_TIMEOUT = '2s';
/** How long a batch's fencing check waits for its partitions' rows (held by nothing but a claim, briefly). */
const BATCH_LOCK_TIMEOUT = '60s';

/**
 * A processor's side of the database: claiming partitions (each new owner raises their fencing tokens), the
 * batches it writes (their rows, under a check of the tokens, in one transaction with the offsets or prepared
 * for two-phase commit), and the prepared transactions a dead owner left. Numbers in comments are the steps of
 * docs/postgres.md.
 */
export class PostgresTables {
  private constructor(
    private readonly pool: pg.Pool,
    readonly processor: string,
    readonly topic: string,
  ) {}

  static async open(url: string, processor: string, topic: string, options: { twoPhase: boolean }) {
    // Each batch holds one connection and its note takes a second one for a moment: room for several at once.
    const pool = new pg.Pool({ connectionString: url, max: 16 });
    pool.on('error', () => {}); // an idle connection's error (the server restarting) is met again at the next use
    const client = await pool.connect();
    try {
      await ensureSchema(client, options);
    } finally {
      client.release();
    }
    return new PostgresTables(pool, processor, topic);
  }

  /**
   * 0. Takes `partitions` over: first resolves the prepared transactions their earlier owners left (`decide` says
   * how), then raises each partition's fencing token, so that no earlier owner's transaction can commit any more.
   * A prepared transaction holds its partitions' rows locked: the claim waits at most CLAIM_LOCK_TIMEOUT, then
   * looks for prepared transactions again (one may have been prepared meanwhile).
   */
  async claim(partitions: readonly number[], decide: Decide): Promise<Map<number, Claim>> {
    for (;;) {
      // Only batches on these partitions: another instance's, on partitions it still owns, are its own to finish.
      for (const pending of await this.pending(partitions)) await this.resolve(pending.gid, await decide(pending));
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(`SET LOCAL lock_timeout = '${CLAIM_LOCK_TIMEOUT}'`);
        const { rows } = await client.query<{ partition: number; token: string; next_offset: string | null }>(
          `INSERT INTO exactly_partitions (processor, topic, partition, token)
             SELECT $1, $2, p, 1 FROM unnest($3::int[]) AS p
           ON CONFLICT (processor, topic, partition) DO UPDATE SET token = exactly_partitions.token + 1
           RETURNING partition, token::text AS token, next_offset::text AS next_offset`,
          [this.processor, this.topic, [...partitions]],
        );
        await client.query('COMMIT');
        await this.forgetStaleNotes(partitions);
        return new Map(
          rows.map((r) => [r.partition, { partition: r.partition, token: r.token, nextOffset: r.next_offset }]),
        );
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        if ((error as { code?: string }).code !== '55P03') throw error; // lock_not_available: look again
      } finally {
        client.release();
      }
    }
  }

  /**
   * This processor's prepared transactions for its input topic (a note without one is not pending); with
   * `partitions`, only those covering one of them.
   */
  async pending(partitions?: readonly number[]): Promise<PendingBatch[]> {
    const { rows } = await this.pool.query<{ gid: string; ends: Record<string, string> }>(
      `SELECT n.gid, n.ends FROM exactly_pending n JOIN pg_prepared_xacts x ON x.gid = n.gid
        WHERE n.processor = $1 AND n.topic = $2 AND ($3::text[] IS NULL OR n.ends ?| $3::text[])
        ORDER BY n.noted_at`,
      [this.processor, this.topic, partitions === undefined ? null : partitions.map(String)],
    );
    return rows;
  }

  /** COMMIT PREPARED or ROLLBACK PREPARED, then the note goes. One already resolved (by its owner) is fine. */
  async resolve(gid: string, outcome: 'commit' | 'rollback'): Promise<void> {
    await this.pool
      .query(`${outcome === 'commit' ? 'COMMIT' : 'ROLLBACK'} PREPARED '${gid}'`)
      .catch((error: { code?: string }) => {
        if (error.code !== '42704') throw error; // undefined_object: resolved meanwhile
      });
    await this.pool.query('DELETE FROM exactly_pending WHERE gid = $1', [gid]);
  }

  /**
   * 1c (or the fast path's 1). Begins a batch's transaction on `claims`: the fencing check comes first, and keeps the partitions' rows
   * locked until the transaction ends, so that a new owner's claim waits for it (or for its resolution).
   */
  async begin(claims: Iterable<Claim>): Promise<TableBatch> {
    const held = [...claims];
    const client = await this.pool.connect();
    try {
      // A lock held longer than this is not a batch's (they are short): an error to recover from, not a hang.
      await client.query(`BEGIN; SET LOCAL lock_timeout = '${BATCH_LOCK_TIMEOUT}'`);
      await fence(client, this, held);
      return new TableBatch(client, this, held);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      client.release();
      throw error;
    }
  }

  /** A note for a transaction about to be prepared, in a transaction of its own (it must outlive a crash). */
  async note(gid: string, ends: ReadonlyMap<number, bigint>): Promise<void> {
    const json = Object.fromEntries([...ends].map(([partition, end]) => [String(partition), end.toString()]));
    await this.pool.query('INSERT INTO exactly_pending (gid, processor, topic, ends) VALUES ($1, $2, $3, $4)', [
      gid,
      this.processor,
      this.topic,
      JSON.stringify(json),
    ]);
  }

  /** A transaction id for PREPARE TRANSACTION: under 200 characters whatever the processor's id. */
  newGid(): string {
    const processor = createHash('sha256').update(`${this.processor}/${this.topic}`).digest('hex').slice(0, 16);
    return `exactly:${processor}:${randomUUID()}`;
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  /**
   * Notes on `partitions` whose transaction is not prepared: never prepared (the owner died between the note and
   * PREPARE) or already resolved. Only safe once this owner holds the partitions: an earlier owner's transaction
   * on them has ended or is prepared (the claim waited for its locks), and no earlier owner can begin another.
   * Another instance's notes, on partitions it owns, may be about to be prepared: they are left alone.
   */
  private async forgetStaleNotes(partitions: readonly number[]): Promise<void> {
    await this.pool.query(
      `DELETE FROM exactly_pending n WHERE n.processor = $1 AND n.topic = $2 AND n.ends ?| $3::text[]
         AND NOT EXISTS (SELECT 1 FROM pg_prepared_xacts x WHERE x.gid = n.gid)`,
      [this.processor, this.topic, partitions.map(String)],
    );
  }
}

/** One batch's database transaction, from its fencing check to its commit or PREPARE. */
export class TableBatch {
  private ended = false;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly tables: PostgresTables,
    private readonly claims: readonly Claim[],
  ) {}

  /** The batch's rows, in this transaction; a refusal is a TableWriteError saying whose fault it is. */
  async write(rows: readonly TableRow[]): Promise<void> {
    try {
      await insertRows(this.client, rows);
    } catch (error) {
      throw classifyWriteError(error, tableNames(rows));
    }
  }

  /**
   * After a refused write, in a new batch: each input's rows on their own, under a savepoint, until one is
   * refused. Answers its index in `groups` and the reason (undefined: none refused now). Nothing of it commits.
   */
  async findRefused(groups: readonly (readonly TableRow[])[]): Promise<{ index: number; reason: string } | undefined> {
    try {
      for (const [index, rows] of groups.entries()) {
        if (rows.length === 0) continue;
        await this.client.query('SAVEPOINT exactly_one_input');
        try {
          await this.write(rows);
        } catch (error) {
          if ((error as { kind?: string }).kind === 'refused') return { index, reason: (error as Error).message };
          throw error;
        }
        await this.client.query('RELEASE SAVEPOINT exactly_one_input');
      }
      return undefined;
    } finally {
      await this.rollback();
    }
  }

  /** The fast path's 2: the rows and the next offsets commit in this one transaction (no Kafka transaction). */
  async commitWithOffsets(ends: ReadonlyMap<number, bigint>): Promise<void> {
    await this.end(async () => {
      await fence(this.client, this.tables, this.claims, ends);
      await this.client.query('COMMIT');
    });
  }

  /**
   * 1c, its end: the next offsets under the fencing check, the note, then PREPARE TRANSACTION. After it the rows are durable but
   * invisible, and the partitions' rows stay locked until COMMIT PREPARED or ROLLBACK PREPARED.
   */
  async prepare(ends: ReadonlyMap<number, bigint>): Promise<string> {
    const gid = this.tables.newGid();
    await this.end(async () => {
      await fence(this.client, this.tables, this.claims, ends); // the next offsets, committed with the rows
      await this.tables.note(gid, ends);
      await this.client.query(`PREPARE TRANSACTION '${gid}'`);
    });
    return gid;
  }

  async rollback(): Promise<void> {
    await this.end(() => this.client.query('ROLLBACK').then(() => undefined));
  }

  private async end(how: () => Promise<void>): Promise<void> {
    if (this.ended) throw new Error('this batch has ended already');
    this.ended = true;
    try {
      await how();
    } catch (error) {
      await this.client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      this.client.release();
    }
  }
}

/**
 * The fencing check, inside the transaction: the claims' tokens must still be the partitions' tokens (no new
 * owner since), and the rows are locked until the transaction ends. With `ends`, the next offsets are set too.
 */
async function fence(
  client: pg.ClientBase,
  tables: PostgresTables,
  claims: readonly Claim[],
  ends?: ReadonlyMap<number, bigint>,
): Promise<void> {
  const partitions = claims.map((c) => c.partition);
  const tokens = claims.map((c) => c.token);
  const nexts = claims.map((c) => {
    const end = ends?.get(c.partition);
    return end === undefined ? null : end.toString();
  });
  const { rowCount } = await client.query(
    `UPDATE exactly_partitions p SET next_offset = COALESCE(c.next_offset, p.next_offset)
       FROM unnest($3::int[], $4::bigint[], $5::bigint[]) AS c(partition, token, next_offset)
      WHERE p.processor = $1 AND p.topic = $2 AND p.partition = c.partition AND p.token = c.token`,
    [tables.processor, tables.topic, partitions, tokens, nexts],
  );
  if (rowCount !== claims.length) {
    throw new FencedError(
      `another owner has taken partition(s) ${partitions.join(', ')} of ${tables.topic} since this one claimed them`,
    );
  }
}

function tableNames(rows: readonly TableRow[]): string[] {
  return [...new Set(rows.map((r) => r.table.name))];
}
