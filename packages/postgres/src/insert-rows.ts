import type { TableRow } from '@exactly/core';
import type pg from 'pg';
import { quotedColumn, quotedTable } from './identifiers.js';

/**
 * Writes a batch's rows, one statement per table: the rows travel as one JSON parameter and PostgreSQL converts
 * each field to its column's own type (jsonb_populate_recordset over the table's row type). A column a row
 * leaves out gets NULL, not its default. `onConflict` becomes ON CONFLICT ... DO NOTHING / DO UPDATE.
 */
export async function insertRows(client: pg.ClientBase, rows: readonly TableRow[]): Promise<void> {
  const byTable = new Map<string, TableRow[]>();
  for (const row of rows) {
    const same = byTable.get(row.table.name);
    if (same) same.push(row);
    else byTable.set(row.table.name, [row]);
  }
  for (const [name, all] of byTable) {
    const tableRows = oncePerKey(all);
    const table = quotedTable(name);
    const columns = [...new Set(tableRows.flatMap((r) => Object.keys(r.row)))].map((c) => quotedColumn(c, name));
    const conflict = tableRows[0]?.table.onConflict;
    let onConflict = '';
    if (conflict) {
      const keys = conflict.columns.map((c) => quotedColumn(c, name));
      const others = columns.filter((c) => !keys.includes(c));
      onConflict =
        conflict.action === 'nothing' || others.length === 0
          ? ` ON CONFLICT (${keys.join(', ')}) DO NOTHING`
          : ` ON CONFLICT (${keys.join(', ')}) DO UPDATE SET ${others.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`;
    }
    const list = columns.join(', ');
    await client.query(
      `INSERT INTO ${table} (${list}) SELECT ${list} FROM jsonb_populate_recordset(NULL::${table}, $1::jsonb)${onConflict}`,
      [
        JSON.stringify(
          tableRows.map((r) => r.row),
          bigintsAsText,
        ),
      ],
    );
  }
}

/** JSON has no bigint: send it as text, which PostgreSQL reads into a bigint or numeric column exactly. */
function bigintsAsText(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/**
 * An upsert's rows with one row per conflict key, as the table ends up after them in order: PostgreSQL refuses
 * an INSERT ... ON CONFLICT DO UPDATE that meets the same key twice. `update`: the last row wins; `nothing`:
 * the first. A plain INSERT's rows are left as they are.
 */
function oncePerKey(rows: readonly TableRow[]): TableRow[] {
  const conflict = rows[0]?.table.onConflict;
  if (!conflict) return [...rows];
  const byKey = new Map<string, TableRow>();
  for (const row of rows) {
    const key = JSON.stringify(
      conflict.columns.map((column) => row.row[column]),
      bigintsAsText,
    );
    if (conflict.action === 'update' || !byKey.has(key)) {
      byKey.delete(key); // keeps the map in the order of each key's winning row
      byKey.set(key, row);
    }
  }
  return [...byKey.values()];
}
