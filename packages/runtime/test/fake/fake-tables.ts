import type { TableRow } from '@exactly/core';
import type { DecidePending, PendingOutcome, TableBatchPort, TableClaim, TablesPort } from '../../src/port/tables.js';

/** The calls a test can fail. */
export type TablesCall = 'claim' | 'begin' | 'write' | 'prepare' | 'commitWithOffsets' | 'resolve';

interface Prepared {
  readonly rows: readonly TableRow[];
  readonly ends: Readonly<Record<string, string>>;
}

/**
 * An in-memory database with PostgreSQL's part of the protocol (docs/postgres.md): fencing tokens per partition,
 * next offsets, prepared transactions with their notes, committed rows. Not concurrent-exact (no locks): the
 * engine's paths, not PostgreSQL's, are what the tests on it check. `log` records each step in order.
 */
export class FakeTables implements TablesPort {
  readonly committedRows: TableRow[] = [];
  readonly tokens = new Map<number, number>();
  readonly nextOffsets = new Map<number, bigint>();
  readonly prepared = new Map<string, Prepared>();
  readonly log: string[] = [];
  private failures: Array<{ call: TablesCall; error: Error; takeEffect: boolean }> = [];
  /** Rows the database refuses (as a constraint would), every time. */
  private refuses: (row: TableRow) => boolean = () => false;
  private gids = 0;

  /**
   * The next `call` fails with `error` (a PostgreSQL error, or one with a `kind` the engine reads). With
   * `takeEffect`, it happens first and only its answer is lost (a PREPARE whose connection then broke).
   */
  failNext(
    call: TablesCall,
    error: Error = new Error(`connection terminated (fake ${call})`),
    { takeEffect = false } = {},
  ): void {
    this.failures.push({ call, error, takeEffect });
  }

  /** Every write holding a row `refuses` accepts is refused (kind 'refused'), as a constraint would. */
  refuseRows(refuses: (row: TableRow) => boolean): void {
    this.refuses = refuses;
  }

  /** Another owner claims `partition`: the holder's next fencing check fails. */
  claimElsewhere(partition: number): void {
    this.tokens.set(partition, (this.tokens.get(partition) ?? 0) + 1);
  }

  async claim(partitions: readonly number[], decide: DecidePending): Promise<Map<number, TableClaim>> {
    this.fault('claim');
    for (const [gid, prepared] of [...this.prepared]) {
      if (!Object.keys(prepared.ends).some((p) => partitions.includes(Number(p)))) continue;
      await this.resolve(gid, await decide({ gid, ends: prepared.ends }));
    }
    const claims = new Map<number, TableClaim>();
    for (const partition of partitions) {
      const token = (this.tokens.get(partition) ?? 0) + 1;
      this.tokens.set(partition, token);
      const next = this.nextOffsets.get(partition);
      claims.set(partition, { partition, token: String(token), nextOffset: next === undefined ? null : String(next) });
    }
    this.log.push(`claim ${partitions.join(',')}`);
    return claims;
  }

  async resolve(gid: string, outcome: PendingOutcome): Promise<void> {
    this.fault('resolve');
    const prepared = this.prepared.get(gid);
    if (!prepared) return;
    this.prepared.delete(gid);
    if (outcome === 'commit') {
      this.committedRows.push(...prepared.rows);
      for (const [partition, end] of Object.entries(prepared.ends))
        this.nextOffsets.set(Number(partition), BigInt(end));
    }
    this.log.push(`${outcome} prepared ${gid}`);
  }

  async begin(claims: Iterable<TableClaim>, prepareAt?: ReadonlyMap<number, bigint>): Promise<TableBatchPort> {
    this.fault('begin');
    const held = [...claims];
    this.check(held);
    const rows: TableRow[] = [];
    let ended = false;
    const end = () => {
      if (ended) throw new Error('this batch has ended already');
      ended = true;
    };
    return {
      write: async (more) => {
        this.fault('write');
        if (more.some(this.refuses))
          throw Object.assign(new Error('rows refused a row: check violated'), { kind: 'refused' });
        rows.push(...more);
      },
      findRefused: async (groups) => {
        end();
        const index = groups.findIndex((group) => group.some(this.refuses));
        return index < 0 ? undefined : { index, reason: 'rows refused a row: check violated' };
      },
      commitWithOffsets: async (ends) => {
        end();
        this.fault('commitWithOffsets');
        this.check(held);
        this.committedRows.push(...rows);
        for (const [partition, next] of ends) this.nextOffsets.set(partition, next);
        this.log.push(`commit ${rows.length} rows`);
      },
      prepare: async () => {
        const ends = prepareAt;
        if (!ends) throw new Error('begun without a note');
        end();
        const lost = this.takeEffectFault('prepare');
        this.fault('prepare');
        this.check(held);
        const gid = `fake-${++this.gids}`;
        this.prepared.set(gid, {
          rows,
          ends: Object.fromEntries([...ends].map(([p, e]) => [String(p), e.toString()])),
        });
        this.log.push(`prepare ${gid}`);
        if (lost) throw lost;
        return gid;
      },
      rollback: async () => {
        end();
      },
    };
  }

  async close(): Promise<void> {}

  private check(claims: readonly TableClaim[]): void {
    for (const claim of claims) {
      if (String(this.tokens.get(claim.partition) ?? 0) !== claim.token) {
        throw Object.assign(new Error(`another owner has taken partition ${claim.partition}`), {
          name: 'FencedError',
          kind: 'fenced',
        });
      }
    }
  }

  /** A failure of `call` that takes effect first: taken off the list, thrown by the caller afterwards. */
  private takeEffectFault(call: TablesCall): Error | undefined {
    const index = this.failures.findIndex((f) => f.call === call && f.takeEffect);
    if (index < 0) return undefined;
    const [failure] = this.failures.splice(index, 1);
    return failure?.error;
  }

  private fault(call: TablesCall): void {
    const index = this.failures.findIndex((f) => f.call === call && !f.takeEffect);
    if (index < 0) return;
    const [failure] = this.failures.splice(index, 1);
    if (failure) throw failure.error;
  }
}
