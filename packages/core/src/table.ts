import { ExactlyConfigError } from './errors.js';

/** The row type of a table, for the type checker only: no value carries it. */
declare const rowType: unique symbol;

/** What an INSERT does when a row conflicts with one already there (the user's unique index on `columns`). */
export interface TableConflict {
  readonly columns: readonly string[];
  /** `nothing`: keep the row already there. `update`: overwrite its other columns with the new row's. */
  readonly action: 'nothing' | 'update';
}

/**
 * A database table as an output, like a topic: the handler returns `{ value: row }` entries for it, and they are
 * written in the same transaction as the batch's other outputs and offsets. Made by a participant's package
 * (`table()` of `@exactly/postgres`); the table itself is the user's (their DDL).
 */
export interface Table<Row> {
  readonly kind: 'table';
  /** `table` or `schema.table`. */
  readonly name: string;
  /** Default: a plain INSERT (a conflict fails the batch). */
  readonly onConflict?: TableConflict;
  readonly [rowType]?: Row;
}

/** Any table, whatever its row type: what maps of outputs are built from. */
export type AnyTable = Table<unknown>;
export type RowOf<T> = T extends Table<infer Row> ? Row : never;

/** One row of a table output, as a handler returns it. */
export interface TableEntry<Row> {
  readonly value: Row;
}

/** A row on its way to its table: what the pipeline hands to the table's participant. */
export interface TableRow {
  /** The output's name in the processor (`outputs.<name>`). */
  readonly output: string;
  readonly table: AnyTable;
  readonly row: Readonly<Record<string, unknown>>;
}

export function isTable(output: unknown): output is AnyTable {
  return typeof output === 'object' && output !== null && (output as { kind?: unknown }).kind === 'table';
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** `table` or `schema.table`, each an unquoted SQL identifier (so that no quoting question arises). */
export function checkTableName(name: unknown, field: string): asserts name is string {
  const parts = typeof name === 'string' ? name.split('.') : [];
  if (parts.length < 1 || parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) {
    throw new ExactlyConfigError(
      field,
      `'${String(name)}' is not a table name: give table or schema.table, each of letters, digits and '_' (not starting with a digit, at most 63)`,
    );
  }
}
