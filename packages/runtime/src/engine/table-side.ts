import { setTimeout as delay } from 'node:timers/promises';
import type { RawRecord, TableRow } from '@exactly/core';
import { backoffMs } from '../backoff.js';
import type { PartitionOffset } from '../port/client.js';
import { ClientError } from '../port/errors.js';
import type { PendingOutcome, PendingTableBatch, TableBatchPort, TableClaim, TablesPort } from '../port/tables.js';
import type { HandledRecord } from './batch-work.js';
import type { EngineContext } from './context.js';
import { crashPoint } from './crash-points.js';
import type { TransactionParticipant } from './state.js';

/** A prepared transaction of this owner whose outcome is not applied yet; `outcome` once it is known. */
interface Unresolved extends PendingTableBatch {
  outcome?: PendingOutcome;
}

/**
 * A task's side of the database its table outputs write to (docs/postgres.md; the numbers are its steps):
 * the partitions it has claimed (their fencing tokens, and where the database says consuming goes on), and a
 * transaction participant per batch, which writes the batch's rows and either commits them with the offsets
 * alone (nothing for Kafka in the batch: the fast path) or prepares them for Kafka's commit to decide.
 */
export class TableSide {
  private readonly claims = new Map<number, TableClaim>();
  /** Where each claimed partition's next batch starts, as far as the database knows. */
  private readonly positions = new Map<number, bigint | null>();
  private readonly unresolved = new Map<string, Unresolved>();
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly ctx: EngineContext,
    private readonly tables: TablesPort,
  ) {}

  /**
   * 0. Takes `partitions` over (after Kafka's fencing, before reading where to start): resolves what earlier
   * owners left prepared, raises the tokens. Answers each partition's next offset as the database has it.
   */
  async claim(partitions: readonly number[]): Promise<Map<number, bigint | null>> {
    const claims = await this.tables
      .claim(partitions, (pending) => this.decide(pending))
      .catch((error: unknown) => {
        throw this.asClientError(error);
      });
    const positions = new Map<number, bigint | null>();
    for (const [partition, claim] of claims) {
      this.claims.set(partition, claim);
      const position = claim.nextOffset === null ? null : BigInt(claim.nextOffset);
      this.positions.set(partition, position);
      positions.set(partition, position);
    }
    return positions;
  }

  isClaimed(partition: number): boolean {
    return this.claims.has(partition);
  }

  /** The database's next offset for a claimed partition (null: none committed there yet). */
  position(partition: number): bigint | null {
    return this.positions.get(partition) ?? null;
  }

  /** Forgets claims (all, or `partition`'s): the next use claims again, which reads the position again. */
  forget(partition?: number): void {
    if (partition === undefined) {
      this.claims.clear();
      this.positions.clear();
    } else {
      this.claims.delete(partition);
      this.positions.delete(partition);
    }
  }

  /**
   * The participant for one transaction: `handled`'s rows, committed up to `offsets`. An input whose rows the
   * database refuses is named to `refuse` (it becomes a dead letter when the batch is redone).
   */
  participant(
    handled: readonly HandledRecord[],
    offsets: readonly PartitionOffset[],
    refuse: (input: RawRecord, reason: string) => void,
  ): TransactionParticipant {
    const rows: TableRow[] = [];
    for (const one of handled) for (const row of one.rows) rows.push(row);
    const ends = new Map(offsets.map((o) => [o.partition, BigInt(o.offset)]));
    let batch: TableBatchPort | undefined;
    let gid: string | undefined;
    const open = async (twoPhase: boolean) => {
      const claims = [...ends.keys()].map((partition) => {
        const claim = this.claims.get(partition);
        if (!claim) throw new Error(`unreachable: partition ${partition} written without a claim (1a claims)`);
        return claim;
      });
      const opened = await this.tables.begin(claims, twoPhase ? ends : undefined);
      batch = opened;
      if (rows.length > 0) await opened.write(rows).catch((error: unknown) => refused(error, opened));
      return opened;
    };
    /**
     * The database refused the batch's data (at a row, or a deferred constraint at PREPARE or COMMIT): the batch
     * ends, and its inputs are tried one by one to name the one refused. Rethrows `error`.
     */
    const refused = async (error: unknown, opened: TableBatchPort): Promise<never> => {
      if ((error as { kind?: unknown }).kind === 'refused') {
        await opened.rollback().catch(() => {}); // its connection back first: the probe takes one
        const claims = [...ends.keys()].flatMap((partition) => this.claims.get(partition) ?? []);
        await this.nameRefused(claims, handled, refuse).catch(() => {});
      }
      throw error;
    };
    const advance = () => {
      for (const [partition, end] of ends) this.positions.set(partition, end);
    };
    /**
     * A step of the batch's database transaction. When it fails for a reason of the database's (a lost connection,
     * a server restarting), what it left is unknown (a PREPARE whose answer was lost leaves a prepared transaction
     * holding the partitions' rows): the claims are dropped, and the next transaction claims them again first,
     * which resolves whatever is there.
     */
    const step = async <T>(run: () => Promise<T>): Promise<T> =>
      this.guard(run).catch((error: ClientError) => {
        if (error.code === 'DATABASE') for (const partition of ends.keys()) this.forget(partition);
        throw error;
      });
    return {
      settle: () => this.settle([...ends.keys()]),
      records: () => [],
      // 1c. Rows and Kafka outputs: the rows prepared (the note first), Kafka's commit decides.
      prepare: async () => {
        if (rows.length === 0) return; // nothing here: Kafka's transaction alone, the database's position lags
        const opened = await step(() => open(true));
        gid = await step(() => opened.prepare().catch((error: unknown) => refused(error, opened)));
        this.ctx.log.debug({ gid, ends: endsRecord(ends), rows: rows.length }, 'database transaction prepared');
        crashPoint('prepared');
      },
      // Nothing for Kafka: the rows and the next offsets commit in one database transaction.
      prepareAlone: async () => {
        await step(() => open(false));
      },
      commitAlone: async () => {
        const opened = batch;
        if (!opened) throw new Error('unreachable: commitAlone() before prepareAlone()');
        await step(() => opened.commitWithOffsets(ends).catch((error: unknown) => refused(error, opened)));
        advance();
      },
      // 3. COMMIT PREPARED. If it fails, the decision (commit) is kept and applied before the next transaction.
      committed: async () => {
        if (gid === undefined) return;
        crashPoint('decided');
        advance();
        await this.resolve({ gid, ends: {}, outcome: 'commit' });
      },
      aborted: async () => {
        if (gid !== undefined) await this.resolve({ gid, ends: {}, outcome: 'rollback' });
        else if (batch) await batch.rollback().catch(() => {});
      },
      // Kafka's commit has an unknown outcome: decided from Kafka's committed offsets before the next transaction.
      inDoubt: () => {
        if (gid !== undefined) this.unresolved.set(gid, { gid, ends: endsRecord(ends) });
        this.resolveOwedLater();
        for (const partition of ends.keys()) this.positions.delete(partition);
        for (const partition of ends.keys()) this.claims.delete(partition);
      },
    };
  }

  /** Finds the input whose rows the database refuses (one by one, in a batch that is rolled back), and names it. */
  private async nameRefused(
    claims: readonly TableClaim[],
    handled: readonly HandledRecord[],
    refuse: (input: RawRecord, reason: string) => void,
  ): Promise<void> {
    const probe = await this.tables.begin(claims);
    const found = await probe.findRefused(handled.map((h) => h.rows));
    const culprit = found === undefined ? undefined : handled[found.index];
    if (culprit && found) refuse(culprit.input, found.reason);
  }

  /**
   * 1a. Applies every outcome this owner still owes the database (deciding the unknown ones from Kafka), and claims
   * again the transaction's `partitions` whose claims a database failure dropped (resolving what it left).
   */
  private async settle(partitions: readonly number[]): Promise<void> {
    await this.resolveOwed();
    const unclaimed = partitions.filter((partition) => !this.claims.has(partition));
    if (unclaimed.length > 0) {
      await this.claim(unclaimed);
      // The batch in hand was read from positions held before: redo it from the claim's (it may be another
      // owner's partition by now, or a stale poll's), rather than commit what the claim may have overtaken.
      throw new ClientError('retriable', 'DATABASE_RECLAIMED', 'partitions claimed again; the batch is redone');
    }
  }

  /** The outcomes this owner owes the database, applied (the unknown ones decided from Kafka first). */
  private async resolveOwed(): Promise<void> {
    for (const pending of [...this.unresolved.values()]) {
      const outcome = pending.outcome ?? (await this.decide(pending));
      await this.guard(() => this.tables.resolve(pending.gid, outcome));
      this.unresolved.delete(pending.gid);
    }
  }

  /**
   * Owed outcomes are applied by the next transaction (1a), and also in the background with the back-off: a
   * prepared transaction holds its rows invisible and locked, and an idle input brings no next transaction.
   */
  private resolveOwedLater(attempt = 0): void {
    if (this.retryTimer || this.closed || this.unresolved.size === 0) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.resolveOwed().then(
        () => this.resolveOwedLater(0),
        () => this.resolveOwedLater(attempt + 1),
      );
    }, backoffMs(attempt));
    this.retryTimer.unref();
  }

  /** Resolves one prepared transaction now, or keeps it (with its outcome) to resolve later if the database fails. */
  private async resolve(pending: Unresolved & { outcome: PendingOutcome }): Promise<void> {
    try {
      await this.tables.resolve(pending.gid, pending.outcome);
      this.ctx.log.debug({ gid: pending.gid, outcome: pending.outcome }, 'prepared database transaction resolved');
    } catch (error) {
      this.unresolved.set(pending.gid, pending);
      this.resolveOwedLater();
      this.ctx.log.warn(
        { gid: pending.gid, outcome: pending.outcome, error: String(error) },
        'a prepared database transaction could not be resolved yet; it is retried, and settled before the next transaction',
      );
    }
  }

  /** No more background work (the task is closing). */
  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /**
   * Kafka's commit is the decision: a prepared batch committed iff the group's committed offsets (read with
   * require_stable, so a transaction still open is waited for) have reached its ends.
   */
  private async decide(pending: PendingTableBatch): Promise<PendingOutcome> {
    const partitions = Object.keys(pending.ends).map(Number);
    if (partitions.length === 0) return 'rollback';
    const deadline = Date.now() + 2 * this.ctx.transactionTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const committed = await this.ctx.admin.committedOffsets(this.ctx.groupId, this.ctx.inputTopic, partitions);
        const done = partitions.every((p) => {
          const offset = committed.get(p);
          const end = pending.ends[String(p)];
          return offset !== null && offset !== undefined && end !== undefined && BigInt(offset) >= BigInt(end);
        });
        const outcome = done ? 'commit' : 'rollback';
        this.ctx.log.info({ gid: pending.gid, ends: pending.ends, outcome }, 'prepared database transaction decided');
        return outcome;
      } catch (error) {
        if (!(error instanceof ClientError) || error.kind !== 'retriable' || Date.now() > deadline) throw error;
        await delay(backoffMs(attempt));
      }
    }
  }

  /**
   * Database errors as the engine's kinds. A failed fencing check means another owner has claimed a partition
   * since: the claims are forgotten, so that if the group still gives this owner the partition, it claims again.
   */
  private async guard<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      const failure = this.asClientError(error);
      if (failure.code === 'DATABASE_FENCED') this.forget();
      throw failure;
    }
  }

  private asClientError(error: unknown): ClientError {
    if (error instanceof ClientError) return error;
    const kind = (error as { kind?: unknown }).kind;
    const text = error instanceof Error ? error.message : String(error);
    if (kind === 'refused') return new ClientError('refused', 'DATABASE_REFUSED', text, { cause: error });
    if (kind === 'fatal') return new ClientError('fatal', 'DATABASE_TABLE', `PostgreSQL: ${text}`, { cause: error });
    if (kind === 'fenced') {
      // 'partition' fencing: give the partition up. 'instance': the group moved on; redo, as its new owner will.
      const as = this.ctx.adapter.fencing === 'partition' ? 'fenced' : 'membership';
      return new ClientError(as, 'DATABASE_FENCED', text, { cause: error });
    }
    return new ClientError('abortable', 'DATABASE', `PostgreSQL: ${text}`, { cause: error });
  }
}

function endsRecord(ends: ReadonlyMap<number, bigint>): Record<string, string> {
  return Object.fromEntries([...ends].map(([partition, end]) => [String(partition), end.toString()]));
}
