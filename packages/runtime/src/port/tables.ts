import type { TableRow } from '@exactly/core';

/**
 * The engine's view of a database that table outputs write to (`@exactly/postgres` implements it, loaded only
 * for a processor with tables). Small on purpose, like the Kafka client port. Offsets are decimal strings.
 */
export interface TablesPort {
  /**
   * Takes `partitions` over: resolves the prepared transactions earlier owners left on them (`decide` says how),
   * then raises their fencing tokens, so that no earlier owner's database transaction can commit any more.
   */
  claim(partitions: readonly number[], decide: DecidePending): Promise<Map<number, TableClaim>>;
  /** COMMIT PREPARED or ROLLBACK PREPARED; one already resolved is fine. */
  resolve(gid: string, outcome: PendingOutcome): Promise<void>;
  /**
   * Begins a batch's database transaction under the fencing check of `claims`; rejects with an error whose `kind`
   * is 'fenced' when another owner has taken one of them since. With `prepareAt` (the batch's next offsets), the
   * batch will be prepared: its note is written first.
   */
  begin(claims: Iterable<TableClaim>, prepareAt?: ReadonlyMap<number, bigint>): Promise<TableBatchPort>;
  close(): Promise<void>;
}

export interface TableClaim {
  readonly partition: number;
  readonly token: string;
  /** The next offset to consume as the database has it; null: no batch committed there yet. */
  readonly nextOffset: string | null;
}

/** A prepared transaction's note: the batch's next offset per input partition. */
export interface PendingTableBatch {
  readonly gid: string;
  readonly ends: Readonly<Record<string, string>>;
}

export type PendingOutcome = 'commit' | 'rollback';
export type DecidePending = (pending: PendingTableBatch) => Promise<PendingOutcome>;

/** One batch's database transaction. */
export interface TableBatchPort {
  /**
   * Rejects with an error whose `kind` is 'refused' when the database refused the data (a constraint, a value its
   * column cannot hold), 'fatal' when the rows do not fit the table (a missing column, no privilege).
   */
  write(rows: readonly TableRow[]): Promise<void>;
  /**
   * After a refused write, in a new batch: each group (an input's rows) on its own until one is refused; answers
   * its index and the reason. Nothing commits: the batch is rolled back.
   */
  findRefused(groups: readonly (readonly TableRow[])[]): Promise<{ index: number; reason: string } | undefined>;
  /** The rows and the next offsets, committed in this one transaction (nothing for Kafka in the batch). */
  commitWithOffsets(ends: ReadonlyMap<number, bigint>): Promise<void>;
  /** PREPARE TRANSACTION (with the next offsets noted at begin); answers the transaction's gid. */
  prepare(): Promise<string>;
  rollback(): Promise<void>;
}

/** What opens the database side: `@exactly/postgres/runtime`'s entry point. */
export type OpenTables = (options: {
  readonly url: string;
  readonly processor: string;
  readonly topic: string;
  /** Batches with topic outputs, dead letters or store changes need PREPARE TRANSACTION: checked at open. */
  readonly twoPhase: boolean;
}) => Promise<TablesPort>;
