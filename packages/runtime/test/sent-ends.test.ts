import type { EncodedRecord } from '@exactly/core';
import { describe, expect, it } from 'vitest';
import { addSentEnds } from '../src/adapters/request-size.js';
import { sentKey } from '../src/port/client.js';

const record = (topic: string, partition?: number): EncodedRecord => ({
  topic,
  key: null,
  value: Buffer.from('v'),
  headers: {},
  ...(partition === undefined ? {} : { partition }),
});

// Where a store's local copy is checkpointed: the offset after the last changelog record a commit wrote to each
// partition, from the produce answers' base offsets. One too far would skip a change on the next restore.
describe('addSentEnds: where sent records landed', () => {
  it("is each partition's base offset plus its records in the request", () => {
    const ends = new Map<string, bigint>();
    const sent = [record('c', 0), record('c', 1), record('c', 0), record('c', 0), record('out')];
    addSentEnds(ends, sent, [
      { topic: 'c', partition: 0, baseOffset: 40n },
      { topic: 'c', partition: 1, baseOffset: 7n },
      { topic: 'out', partition: 2, baseOffset: 100n }, // placed by the partitioner: not counted
    ]);
    expect(ends).toEqual(
      new Map([
        [sentKey('c', 0), 43n],
        [sentKey('c', 1), 8n],
      ]),
    );
  });

  it('a later request of the same send moves the end on; an answer without an offset leaves it', () => {
    const ends = new Map<string, bigint>();
    addSentEnds(ends, [record('c', 0), record('c', 0)], [{ topic: 'c', partition: 0, baseOffset: 10n }]);
    addSentEnds(ends, [record('c', 0)], [{ topic: 'c', partition: 0, baseOffset: 12n }]);
    addSentEnds(ends, [record('c', 1)], [{ topic: 'c', partition: 1, baseOffset: -1n }]);
    expect(ends).toEqual(new Map([[sentKey('c', 0), 13n]]));
  });
});
