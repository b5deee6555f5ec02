import { checkTableName } from '@exactly/core';

const COLUMN = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** A table name, quoted per part (names are checked as plain identifiers when the table is declared). */
export function quotedTable(name: string): string {
  checkTableName(name, 'table');
  return name
    .split('.')
    .map((part) => `"${part}"`)
    .join('.');
}

/** A column name from a row's keys, quoted; a key that is not a plain identifier is refused. */
export function quotedColumn(name: string, table: string): string {
  if (!COLUMN.test(name)) {
    throw new TypeError(
      `a row for table ${table} has a field '${name}', which is not a column name (letters, digits, _)`,
    );
  }
  return `"${name}"`;
}
