import { defineProcessor, json, string, topic } from '@exactly/core';
import { table } from '@exactly/postgres';

export interface Transfer {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  /** Cents: money is never a float. */
  readonly cents: number;
}
/** A row of `ledger_entries`: the columns are the fields. */
export interface LedgerEntry {
  readonly transfer_id: string;
  readonly account: string;
  readonly cents: number;
}
export interface Receipt {
  readonly id: string;
}

/** The table the processor writes to; a suffix (the demo's, the tests') gives each run a table of its own. */
export function ledgerTable(suffix = ''): string {
  return `ledger_entries${suffix.replace(/[^a-zA-Z0-9_]/g, '_')}`;
}

/**
 * The DDL to run before the processor: Exactly writes rows, it does not create tables. The primary key is what
 * makes a duplicate impossible to miss: a transfer's rows written twice would fail the insert.
 */
export function ledgerDdl(name = ledgerTable()): string {
  return (
    `CREATE TABLE IF NOT EXISTS ${name} ` +
    '(transfer_id text NOT NULL, account text NOT NULL, cents bigint NOT NULL, PRIMARY KEY (transfer_id, account))'
  );
}
export const LEDGER_DDL = ledgerDdl();

/** Why a transfer is refused; the message becomes the dead letter's reason. */
export function invalidReason(t: Transfer): string | undefined {
  if (typeof t.id !== 'string' || t.id === '') return 'missing transfer id';
  if (typeof t.from !== 'string' || t.from === '' || typeof t.to !== 'string' || t.to === '') {
    return 'missing account';
  }
  if (t.from === t.to) return `same account on both sides (${t.from})`;
  if (!Number.isInteger(t.cents)) return `cents must be a whole number, got ${t.cents}`;
  if (t.cents <= 0) return `cents must be positive, got ${t.cents}`;
  return undefined;
}

/**
 * A transfer becomes two rows of `ledger_entries` (a debit of `from`, a credit of `to`, summing to zero) and a
 * receipt on the `receipts` topic. The rows commit in PostgreSQL and the receipt and the input offset in Kafka,
 * together or not at all (two-phase commit, Kafka's commit deciding). An invalid transfer goes to
 * `ledger-writer.dlq` with the reason, and writes no row and no receipt.
 */
export function ledgerWriter(suffix = '') {
  return defineProcessor({
    id: `ledger-writer${suffix}`,
    input: topic(`transfers${suffix}`, { key: string(), value: json<Transfer>() }),
    outputs: {
      entries: table<LedgerEntry>(ledgerTable(suffix)),
      receipts: topic(`receipts${suffix}`, { key: string(), value: json<Receipt>() }),
    },
    handle({ value: t }) {
      const reason = invalidReason(t);
      if (reason) throw new Error(`invalid transfer: ${reason}`);
      return {
        entries: [
          { value: { transfer_id: t.id, account: t.from, cents: -t.cents } },
          { value: { transfer_id: t.id, account: t.to, cents: t.cents } },
        ],
        receipts: [{ key: t.id, value: { id: t.id } }],
      };
    },
  });
}

/** `exactly run examples/ledger/src/processor.ts --postgres URL`: the processor on `transfers`, `receipts`, `ledger_entries`. */
export default ledgerWriter();
