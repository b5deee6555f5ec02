import type { EncodedRecord, DedupWindow as WindowSettings } from '@exactly/core';
import type { TransactionParticipant } from './state.js';

/**
 * The message ids a queue input has committed, newest last, with when each was committed: how a message
 * delivered again (committed, then the process died before its acknowledgement) is recognised. A key-value store
 * like the processors' own: its changes go to a compacted changelog (partition 0) in the batch's transaction, and
 * it is rebuilt from there (read_committed, after fencing) when the queue is taken over. Bounded by count and
 * age: the oldest ids are forgotten first, with a delete in the changelog.
 */
export class DedupWindow {
  /** id -> commit time (ms), in commit order. */
  private readonly committed = new Map<string, number>();

  constructor(
    readonly changelog: string,
    private readonly settings: Required<WindowSettings>,
  ) {}

  get size(): number {
    return this.committed.size;
  }

  has(id: string): boolean {
    return this.committed.has(id);
  }

  clear(): void {
    this.committed.clear();
  }

  /** One changelog record, read back at a restore: an id committed at a time, or forgotten (no value). */
  restore(key: Buffer, value: Buffer | null): void {
    const id = key.toString('utf8');
    if (value === null) {
      this.committed.delete(id);
      return;
    }
    this.committed.delete(id); // a later write of the same id counts from its own place
    this.committed.set(id, Number(value.toString('utf8')));
  }

  /**
   * The transaction participant for a batch that commits `ids` at `now`: it adds their changelog records, and
   * deletes for what falls out of the window; the window changes only once the commit is confirmed.
   */
  participant(ids: readonly string[], now: number): TransactionParticipant {
    const forgotten = this.forgottenAfter(ids.length, now);
    const stamp = Buffer.from(String(now));
    return {
      records: (): EncodedRecord[] => [
        ...ids.map((id) => this.record(id, stamp)),
        ...forgotten.map((id) => this.record(id, null)),
      ],
      committed: () => {
        for (const id of forgotten) this.committed.delete(id);
        for (const id of ids) this.committed.set(id, now);
      },
      aborted: () => {},
      // What committed is unknown: the caller rebuilds the window before the next batch.
      inDoubt: () => this.committed.clear(),
    };
  }

  /** The oldest ids that leave the window when `adding` more come in at `now`: over the count, or too old. */
  private forgottenAfter(adding: number, now: number): string[] {
    const forgotten: string[] = [];
    let over = this.committed.size + adding - this.settings.ids;
    const oldest = now - this.settings.maxAgeMs;
    for (const [id, at] of this.committed) {
      if (over <= 0 && at >= oldest) break;
      forgotten.push(id);
      over--;
    }
    return forgotten;
  }

  private record(id: string, value: Buffer | null): EncodedRecord {
    return { topic: this.changelog, key: Buffer.from(id, 'utf8'), value, headers: {}, partition: 0 };
  }
}
