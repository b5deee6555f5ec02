import pg from 'pg';

/** A table a processor writes rows to, each row naming its input (as the chaos and example processors do). */
export interface TableCheck {
  /** The database, as a connection URL. */
  readonly url: string;
  readonly table: string;
  /** Columns that hold each row's input partition and offset. Default `source_partition`, `source_offset`. */
  readonly partitionColumn?: string;
  readonly offsetColumn?: string;
  /** Rows each input must have. Default 1. */
  readonly expectPerInput?: number;
}

export interface TableVerdict {
  readonly table: string;
  readonly rows: number;
  /** Inputs with fewer rows than expected (dead-lettered inputs expect none). */
  readonly missing: number;
  /** Inputs with more rows than expected. */
  readonly duplicated: number;
  /** Rows citing an input that does not exist. */
  readonly orphans: number;
  /** Inputs with rows but no record on some output topic (read_committed), and the reverse. */
  readonly rowsWithoutOutput: number;
  readonly outputsWithoutRows: number;
  /** Exactly's prepared transactions still in the database: resolved, each of them, after a drained run. */
  readonly preparedLeft: number;
  readonly examples: readonly string[];
}

/**
 * Checks a table against the input: every input's rows present exactly `expectPerInput` times (none for a dead
 * letter), none citing an unknown input, and a row exists exactly when the input's outputs are visible on
 * every output topic (`outputIds`: the inputs each output topic holds, read_committed). Read with SQL, beside
 * the processor: an independent reader.
 */
export async function verifyTable(
  check: TableCheck,
  inputIds: ReadonlySet<string>,
  deadLettered: ReadonlySet<string>,
  outputIds: ReadonlyMap<string, ReadonlySet<string>>,
): Promise<TableVerdict> {
  const partitionColumn = check.partitionColumn ?? 'source_partition';
  const offsetColumn = check.offsetColumn ?? 'source_offset';
  const expected = check.expectPerInput ?? 1;
  const client = new pg.Client({ connectionString: check.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string; n: string }>(
      `SELECT ${quote(partitionColumn)}::text || ':' || ${quote(offsetColumn)}::text AS id, count(*) AS n
         FROM ${quote(check.table)} GROUP BY 1`,
    );
    const prepared = await client.query("SELECT gid FROM pg_prepared_xacts WHERE gid LIKE 'exactly:%'");
    const examples: string[] = [];
    const note = (line: string) => examples.length < 10 && examples.push(line);
    const counts = new Map(rows.map((r) => [r.id, Number(r.n)]));
    let orphans = 0;
    let total = 0;
    for (const [id, n] of counts) {
      total += n;
      if (!inputIds.has(id)) {
        orphans += 1;
        note(`${check.table}: ${n} row(s) cite no input (${id})`);
      }
    }
    let missing = 0;
    let duplicated = 0;
    let rowsWithoutOutput = 0;
    let outputsWithoutRows = 0;
    for (const id of inputIds) {
      const count = counts.get(id) ?? 0;
      const want = deadLettered.has(id) ? 0 : expected;
      if (count < want) {
        missing += 1;
        note(`${check.table}: input ${id} has ${count} row(s), expected ${want}`);
      } else if (count > want) {
        duplicated += 1;
        note(`${check.table}: input ${id} has ${count} row(s), expected ${want}`);
      }
      for (const [topic, ids] of outputIds) {
        if (count > 0 && !ids.has(id)) {
          rowsWithoutOutput += 1;
          note(`${check.table}: input ${id} has rows but nothing on ${topic}`);
        } else if (count === 0 && ids.has(id) && want > 0) {
          outputsWithoutRows += 1;
          note(`${check.table}: input ${id} is on ${topic} but has no rows`);
        }
      }
    }
    return {
      table: check.table,
      rows: total,
      missing,
      duplicated,
      orphans,
      rowsWithoutOutput,
      outputsWithoutRows,
      preparedLeft: prepared.rowCount ?? 0,
      examples: [...examples, ...prepared.rows.map((r: { gid: string }) => `${check.table}: ${r.gid} left prepared`)],
    };
  } finally {
    await client.end();
  }
}

/** The problems a table verdict counts: each must be 0. */
export function tableProblems(v: TableVerdict): number {
  return v.missing + v.duplicated + v.orphans + v.rowsWithoutOutput + v.outputsWithoutRows + v.preparedLeft;
}

function quote(identifier: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(identifier)) throw new Error(`not a plain identifier: '${identifier}'`);
  return `"${identifier}"`;
}
