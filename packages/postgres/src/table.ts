import { checkTableName, ExactlyConfigError, type Table, type TableConflict } from '@exactly/core';

export interface TableOptions<Row> {
  /**
   * An upsert: when a row conflicts on `columns` (a unique index or primary key of the table), `nothing` keeps the
   * row already there and `update` overwrites its other columns. Default: a plain INSERT.
   */
  readonly onConflict?: {
    readonly columns: readonly (keyof Row & string)[];
    readonly action: 'nothing' | 'update';
  };
}

/**
 * A PostgreSQL table as an output: the handler returns `{ value: row }` entries for it, and the rows commit in the
 * same transaction as the batch's offsets (and topic outputs). The table is yours (your DDL); each row's fields
 * are its columns: `table<{ transfer_id: string; cents: number }>('ledger_entries')`.
 */
export function table<Row extends object>(name: string, options: TableOptions<Row> = {}): Table<Row> {
  checkTableName(name, `table('${name}')`);
  const conflict = options.onConflict;
  if (conflict !== undefined) checkConflict(name, conflict);
  return Object.freeze({
    kind: 'table' as const,
    name,
    ...(conflict === undefined ? {} : { onConflict: Object.freeze({ ...conflict, columns: [...conflict.columns] }) }),
  });
}

function checkConflict(name: string, conflict: TableConflict): void {
  const field = `table('${name}').onConflict`;
  if (!Array.isArray(conflict.columns) || conflict.columns.length === 0) {
    throw new ExactlyConfigError(field, 'columns must name the unique columns a conflict is found on');
  }
  if (conflict.action !== 'nothing' && conflict.action !== 'update') {
    throw new ExactlyConfigError(field, `action must be 'nothing' or 'update', got '${String(conflict.action)}'`);
  }
}
