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
/** A batch's session idle in its transaction this long belongs to a stopped owner: the server ends it. */
const BATCH_IDLE_TIMEOUT = '30s';
/** Connections per process; batches open at once are bounded to fit (see batchSlots). */
const POOL_SIZE = 16;
const CONNECT_TIMEOUT_MS = 30_000;

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

  /**
   * Batches open at once. A batch holds a connection from begin() to its end (one engine task per input partition
   * may start one): the pool keeps a few for claims and resolutions, which a batch may be waiting for. The other
   * batches wait here for one to end.
   */
  private readonly batchSlots = new Slots(POOL_SIZE - 4);

  static async open(url: string, processor: string, topic: string, options: { twoPhase: boolean }) {
    // A connection not had within CONNECT_TIMEOUT_MS is an error to recover from, never a silent wait.
    const pool = new pg.Pool({ connectionString: url, max: POOL_SIZE, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
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
        // On this connection: a second one per claim would exhaust the pool when many partitions open at once.
        await this.forgetStaleNotes(client, partitions);
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
  async begin(claims: Iterable<Claim>, prepareAt?: ReadonlyMap<number, bigint>): Promise<TableBatch> {
    const held = [...claims];
    const release = await this.batchSlots.take();
    let client: pg.PoolClient | undefined;
    try {
      client = await this.pool.connect();
      // 1c's note, for a batch that will be prepared: committed on its own, before the transaction begins, on the
      // batch's own connection (a second one per batch could exhaust the pool). A claim that deletes it before
      // the fencing check below also raised the token: the check then fails, and nothing is prepared.
      const gid = prepareAt ? this.newGid() : undefined;
      if (gid && prepareAt) await this.note(client, gid, prepareAt);
      // A lock held longer than BATCH_LOCK_TIMEOUT is not a batch's (they are short): an error, not a hang. A
      // session idle in its transaction that long is a stopped owner (SIGSTOP): the server ends it, and its locks.
      await client.query(
        `BEGIN; SET LOCAL lock_timeout = '${BATCH_LOCK_TIMEOUT}'; SET LOCAL idle_in_transaction_session_timeout = '${BATCH_IDLE_TIMEOUT}'`,
      );
      await fence(client, this, held);
      const opened = client;
      return new TableBatch(opened, this, held, gid, prepareAt, () => {
        opened.release();
        release();
      });
    } catch (error) {
      await client?.query('ROLLBACK').catch(() => {});
      client?.release();
      release();
      throw error;
    }
  }

  /** A note for a transaction about to be prepared, in a transaction of its own (it must outlive a crash). */
  async note(client: pg.ClientBase, gid: string, ends: ReadonlyMap<number, bigint>): Promise<void> {
    const json = Object.fromEntries([...ends].map(([partition, end]) => [String(partition), end.toString()]));
    await client.query('INSERT INTO exactly_pending (gid, processor, topic, ends) VALUES ($1, $2, $3, $4)', [
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
  private async forgetStaleNotes(client: pg.ClientBase, partitions: readonly number[]): Promise<void> {
    await client.query(
      `DELETE FROM exactly_pending n WHERE n.processor = $1 AND n.topic = $2 AND n.ends ?| $3::text[]
         AND NOT EXISTS (SELECT 1 FROM pg_prepared_xacts x WHERE x.gid = n.gid)`,
      [this.processor, this.topic, partitions.map(String)],
    );
  }
}

/** One batch's database transaction, from its fencing check to its commit or PREPARE. */
export class TableBatch {
  private ended = false;
  /** The tables written, for errors that come at PREPARE or COMMIT. */
  private readonly written: string[] = [];

  constructor(
    private readonly client: pg.PoolClient,
    private readonly tables: PostgresTables,
    private readonly claims: readonly Claim[],
    /** The gid its note names, and the ends it notes: set when the batch was begun to be prepared. */
    private readonly gid: string | undefined,
    private readonly ends: ReadonlyMap<number, bigint> | undefined,
    /** Gives the connection back, and the batch's slot. */
    private readonly release: () => void,
  ) {}

  /** The batch's rows, in this transaction; a refusal is a TableWriteError saying whose fault it is. */
  async write(rows: readonly TableRow[]): Promise<void> {
    for (const name of tableNames(rows)) if (!this.written.includes(name)) this.written.push(name);
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
      // Deferred constraints are checked at each statement here, so that a refusal names its input.
      await this.client.query('SET CONSTRAINTS ALL IMMEDIATE');
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
      // A deferred constraint refuses a row only here: a refusal like any other (the transaction rolled back).
      await this.client.query('COMMIT').catch((error: unknown) => {
        throw classifyWriteError(error, this.written);
      });
    });
  }

  /**
   * 1c, its end: the next offsets (noted at begin) under the fencing check, then PREPARE TRANSACTION. After it the
   * rows are durable but invisible, and the partitions' rows stay locked until COMMIT PREPARED or ROLLBACK PREPARED.
   */
  async prepare(): Promise<string> {
    const { gid, ends } = this;
    if (gid === undefined || ends === undefined)
      throw new Error('this batch was begun without a note: begin(claims, ends)');
    await this.end(async () => {
      await fence(this.client, this.tables, this.claims, ends); // the next offsets, committed with the rows
      await this.client.query(`PREPARE TRANSACTION '${gid}'`).catch((error: unknown) => {
        throw classifyWriteError(error, this.written);
      });
    });
    return gid;
  }

  /** Rolls back; a batch begun to be prepared forgets its note too (it never will be). */
  async rollback(): Promise<void> {
    await this.end(async () => {
      await this.client.query('ROLLBACK');
      if (this.gid) await this.client.query('DELETE FROM exactly_pending WHERE gid = $1', [this.gid]);
    });
  }

  private async end(how: () => Promise<void>): Promise<void> {
    if (this.ended) throw new Error('this batch has ended already');
    this.ended = true;
    try {
      await how();
    } catch (error) {
      await this.client.query('ROLLBACK').catch(() => {});
      // Refused (a constraint): rolled back for certain, never prepared. Otherwise a claim sorts the note out.
      if (this.gid && (error as { kind?: unknown }).kind === 'refused') {
        await this.client.query('DELETE FROM exactly_pending WHERE gid = $1', [this.gid]).catch(() => {});
      }
      throw error;
    } finally {
      this.release();
    }
  }
}

/** A counting semaphore: take() resolves with the function that gives the slot back. */
class Slots {
  private readonly waiting: Array<() => void> = [];

  constructor(private free: number) {}

  async take(): Promise<() => void> {
    if (this.free > 0) this.free -= 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free += 1;
    };
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
