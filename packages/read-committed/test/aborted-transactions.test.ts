import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { AbortedTransactions, type LogEntry, markerOf } from '../src/aborted-transactions.js';
import { filterAbortedMessages, loadKafkaJS } from '../src/load-kafkajs.js';

const ABORT = Buffer.from([0, 0, 0, 0]);
const COMMIT = Buffer.from([0, 0, 0, 1]);

/** A partition's log: data records (producer, transactional) and markers, at offsets 0, 1, 2, … */
type Line = [producer: string, kind: 'data' | 'plain' | 'abort' | 'commit', label?: string];

function kept(log: readonly Line[], aborted: { producerId: string; firstOffset: number }[], from = 0): string[] {
  const filter = new AbortedTransactions(aborted.map((t) => ({ ...t, firstOffset: BigInt(t.firstOffset) })));
  const out: string[] = [];
  log.forEach(([producer, kind, label], offset) => {
    if (offset < from) return;
    const entry: LogEntry = {
      lastOffset: BigInt(offset),
      producerId: producer,
      transactional: kind !== 'plain',
      marker: kind === 'abort' || kind === 'commit' ? kind : undefined,
    };
    if (!filter.drops(entry) && entry.marker === undefined) out.push(label ?? `${producer}@${offset}`);
  });
  return out;
}

describe("Kafka's read_committed rule", () => {
  it('drops a transaction aborted while an older one of another producer is open, listed by last offset', () => {
    const log: Line[] = [
      ['A', 'data', 'a1'],
      ['B', 'data', 'b1'],
      ['B', 'abort'],
      ['C', 'data', 'c1'],
      ['A', 'data', 'a2'],
      ['A', 'abort'],
      ['C', 'commit'],
    ];
    // The broker lists B (marker at 2) before A (marker at 5): not sorted by first offset.
    const listed = [
      { producerId: 'B', firstOffset: 1 },
      { producerId: 'A', firstOffset: 0 },
    ];
    expect(kept(log, listed)).toEqual(['c1']);
  });

  it('drops every one of several aborts by the same producer in one fetch', () => {
    const log: Line[] = [
      ['A', 'data', 'a1'],
      ['A', 'abort'],
      ['A', 'data', 'a2'],
      ['A', 'abort'],
      ['A', 'data', 'a3'],
      ['A', 'commit'],
    ];
    const listed = [
      { producerId: 'A', firstOffset: 0 },
      { producerId: 'A', firstOffset: 2 },
    ];
    expect(kept(log, listed)).toEqual(['a3']);
  });

  it('drops aborted data whose marker lies beyond the fetch', () => {
    const log: Line[] = [
      ['A', 'data', 'a1'],
      ['B', 'data', 'b1'],
    ];
    expect(kept(log, [{ producerId: 'A', firstOffset: 0 }])).toEqual(['b1']);
  });

  it('drops both of two aborted transactions a fetch starts inside', () => {
    const log: Line[] = [
      ['A', 'data', 'a1'],
      ['B', 'data', 'b1'],
      ['A', 'data', 'a2'],
      ['B', 'data', 'b2'],
      ['A', 'abort'],
      ['B', 'abort'],
      ['C', 'plain', 'c1'],
    ];
    const listed = [
      { producerId: 'A', firstOffset: 0 },
      { producerId: 'B', firstOffset: 1 },
    ];
    expect(kept(log, listed, 2)).toEqual(['c1']);
  });

  it('keeps committed and non-transactional records of a producer that also aborted', () => {
    const log: Line[] = [
      ['A', 'data', 'a1'],
      ['A', 'commit'],
      ['A', 'plain', 'p1'],
      ['A', 'data', 'a2'],
      ['A', 'abort'],
      ['A', 'data', 'a3'],
    ];
    expect(kept(log, [{ producerId: 'A', firstOffset: 3 }])).toEqual(['a1', 'p1', 'a3']);
  });

  it("reads a marker's type from the control record key", () => {
    expect(markerOf(ABORT)).toBe('abort');
    expect(markerOf(COMMIT)).toBe('commit');
  });
});

describe('KafkaJS loaded with the rule', () => {
  const message = (offset: number, producerId: string, label: string, control?: Buffer) => ({
    offset: String(offset),
    key: control ?? null,
    value: Buffer.from(label),
    isControlRecord: control !== undefined,
    batchContext: { producerId, inTransaction: true },
  });

  it("KafkaJS's own batches use it, even when the application loaded KafkaJS first", () => {
    const require = createRequire(import.meta.url);
    const batchPath = require.resolve('kafkajs/src/consumer/batch.js', { paths: [require.resolve('kafkajs')] });
    require('kafkajs'); // the application's copy, with KafkaJS's filter
    loadKafkaJS();
    const Batch = require(batchPath) as new (
      topic: string,
      fetchedOffset: string,
      partition: object,
    ) => { messages: { value: Buffer }[] };
    const batch = new Batch('t', '0', {
      partition: 0,
      highWatermark: '5',
      abortedTransactions: [
        { producerId: '2', firstOffset: '1' },
        { producerId: '1', firstOffset: '0' },
      ],
      messages: [
        message(0, '1', 'a1'),
        message(1, '2', 'b1'),
        message(2, '2', '', ABORT),
        message(3, '1', '', ABORT),
        message(4, '3', 'c1'),
      ],
    });
    expect(batch.messages.map((m) => m.value.toString())).toEqual(['c1']);
  });

  it('the drop-in filter keeps markers for KafkaJS to track positions by', () => {
    const filtered = filterAbortedMessages({
      messages: [message(0, '1', 'a1'), message(1, '1', '', ABORT)],
      abortedTransactions: [{ producerId: '1', firstOffset: '0' }],
    });
    expect(filtered.map((m) => m.offset)).toEqual(['1']);
  });
});
