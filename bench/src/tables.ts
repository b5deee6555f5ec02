// The PostgreSQL side of `pnpm bench --postgres`: a contender's tables, created fresh for each run (named after
// the run's topics) and dropped after it, how far it has committed, and the window of its rows.
import pg from 'pg';
import type { BenchEnv, Contender } from './contenders.js';

/** The benchmark's PostgreSQL: its URL, and its postmaster's pid when it runs here (to sample its CPU). */
export interface BenchPostgres {
  readonly url: string;
  readonly pid: number | undefined;
}

/** A topic's name as a table name (lower case, letters, digits and _). */
export const tableOf = (topic: string): string => topic.toLowerCase().replace(/[^a-z0-9_]/g, '_');

/** `env` with the database and the contender's tables: RIGHT's always, LEFT's too for 'tables'. */
export function withTables(env: BenchEnv, contender: Contender, url: string): BenchEnv {
  if (!contender.postgres) return env;
  return {
    ...env,
    DATABASE_URL: url,
    BENCH_RIGHT_TABLE: tableOf(env.BENCH_RIGHT),
    ...(contender.postgres === 'tables' ? { BENCH_LEFT_TABLE: tableOf(env.BENCH_LEFT) } : {}),
  };
}

/** First and last `at` (ms since the epoch) of a table's rows, and their count. */
export interface RowWindow {
  readonly first: number;
  readonly last: number;
  readonly count: number;
}

// Each row's `at` is the time it was inserted (clock_timestamp(), not the transaction's start): the rows' own
// equivalent of the output topics' LogAppendTime.
const AT = 'at timestamptz NOT NULL DEFAULT clock_timestamp()';

/** A connection to the benchmark's database, for one contender's run: its tables and its progress. */
export class BenchTables {
  private constructor(
    private readonly db: pg.Client,
    /** LEFT's table ('tables' only) and RIGHT's. */
    readonly left: string | undefined,
    readonly right: string,
  ) {}

  /** Drops and creates the tables named in `env` (see withTables). */
  static async create(env: BenchEnv): Promise<BenchTables> {
    if (!env.DATABASE_URL || !env.BENCH_RIGHT_TABLE) throw new Error('BenchTables.create: env has no tables');
    const db = new pg.Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    const tables = new BenchTables(db, env.BENCH_LEFT_TABLE, env.BENCH_RIGHT_TABLE);
    try {
      await tables.drop();
      if (tables.left) await db.query(`CREATE TABLE "${tables.left}" (id bigint NOT NULL, pad text NOT NULL, ${AT})`);
      await db.query(`CREATE TABLE "${tables.right}" (id bigint NOT NULL, ${AT})`);
      return tables;
    } catch (error) {
      await db.end().catch(() => undefined);
      throw error;
    }
  }

  /**
   * Input records committed with the rows, by the database's own offsets (Exactly's `exactly_partitions`, whose
   * `next_offset` commits in the same transaction as the rows): cheap to poll, unlike a count(*) of the rows.
   */
  async committedOffsets(processor: string, input: string): Promise<number> {
    const { rows } = await this.db.query<{ n: string | null }>(
      'SELECT sum(next_offset)::text AS n FROM exactly_partitions WHERE processor = $1 AND topic = $2',
      [processor, input],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async count(table: string): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM "${table}"`);
    return Number(rows[0]?.n ?? 0);
  }

  /** The window of `table`'s rows: first and last `at`, and their count. */
  async window(table: string): Promise<RowWindow> {
    const { rows } = await this.db.query<{ first: number | null; last: number | null; n: string }>(
      `SELECT (extract(epoch FROM min(at)) * 1000)::float8 AS first, (extract(epoch FROM max(at)) * 1000)::float8 AS last,
              count(*)::text AS n FROM "${table}"`,
    );
    const row = rows[0];
    return { first: row?.first ?? 0, last: row?.last ?? 0, count: Number(row?.n ?? 0) };
  }

  async drop(): Promise<void> {
    for (const table of [this.left, this.right]) if (table) await this.db.query(`DROP TABLE IF EXISTS "${table}"`);
  }

  /** Drops the tables (a full run would otherwise keep ~1 GB per run of 'tables') and disconnects. */
  async close(): Promise<void> {
    try {
      await this.drop();
    } finally {
      await this.db.end();
    }
  }
}
