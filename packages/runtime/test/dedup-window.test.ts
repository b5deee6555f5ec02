import { describe, expect, test } from 'vitest';
import { DedupWindow } from '../src/engine/dedup-window.js';

/** The de-duplication window's bookkeeping, without a broker: what a batch adds and forgets, and when. */
describe('DedupWindow', () => {
  const changes = (window: DedupWindow, ids: string[], now: number) => {
    const participant = window.participant(ids, now);
    const records = participant.records().map((r) => [r.key?.toString(), r.value === null ? null : Number(r.value)]);
    return { participant, records };
  };

  test('ids count only once their commit is confirmed; an aborted batch leaves nothing', async () => {
    const window = new DedupWindow('p-q-dedup-changelog', { ids: 10, maxAgeMs: 60_000 });
    const aborted = changes(window, ['a', 'b'], 1_000);
    expect(aborted.records).toEqual([
      ['a', 1_000],
      ['b', 1_000],
    ]);
    await aborted.participant.aborted();
    expect(window.has('a')).toBe(false);
    const committed = changes(window, ['a', 'b'], 2_000);
    await committed.participant.committed(new Map());
    expect([window.has('a'), window.has('b'), window.size]).toEqual([true, true, 2]);
  });

  test('over its count, the oldest ids are forgotten, with a delete in the changelog', async () => {
    const window = new DedupWindow('c', { ids: 3, maxAgeMs: 60_000 });
    await changes(window, ['a', 'b', 'c'], 1_000).participant.committed(new Map());
    const next = changes(window, ['d', 'e'], 2_000);
    expect(next.records).toEqual([
      ['d', 2_000],
      ['e', 2_000],
      ['a', null],
      ['b', null],
    ]);
    await next.participant.committed(new Map());
    expect(['a', 'b', 'c', 'd', 'e'].map((id) => window.has(id))).toEqual([false, false, true, true, true]);
  });

  test('ids older than the window are forgotten at the next batch', async () => {
    const window = new DedupWindow('c', { ids: 100, maxAgeMs: 1_000 });
    await changes(window, ['old'], 1_000).participant.committed(new Map());
    await changes(window, ['recent'], 1_900).participant.committed(new Map());
    const next = changes(window, ['new'], 2_500);
    expect(next.records).toEqual([
      ['new', 2_500],
      ['old', null],
    ]);
  });

  test('a restore reads the changelog back: writes, deletes, and a later write of an id', () => {
    const window = new DedupWindow('c', { ids: 100, maxAgeMs: 60_000 });
    window.restore(Buffer.from('a'), Buffer.from('1000'));
    window.restore(Buffer.from('b'), Buffer.from('1000'));
    window.restore(Buffer.from('a'), null);
    window.restore(Buffer.from('c'), Buffer.from('2000'));
    expect([window.has('a'), window.has('b'), window.has('c'), window.size]).toEqual([false, true, true, 2]);
  });

  test('a commit in doubt empties the window: it is read back before the next batch', () => {
    const window = new DedupWindow('c', { ids: 100, maxAgeMs: 60_000 });
    window.restore(Buffer.from('a'), Buffer.from('1000'));
    changes(window, ['b'], 2_000).participant.inDoubt();
    expect(window.size).toBe(0);
  });
});
