import { type EncodedRecord, RECORD_BATCH_OVERHEAD, recordBytes } from '@exactly/core';
import { sentKey } from '../port/client.js';

/** Room for what a record may take beyond recordBytes() later in a batch (larger timestamp and offset deltas). */
const DELTA_ROOM = 8;

/**
 * Splits outputs into requests of at most `maxBytes` each. A client puts one request's records for a
 * partition into one record batch, and the broker refuses batches over the topic's max.message.bytes.
 */
export function* chunksBySize(records: readonly EncodedRecord[], maxBytes: number): Generator<EncodedRecord[]> {
  let chunk: EncodedRecord[] = [];
  let bytes = RECORD_BATCH_OVERHEAD;
  for (const record of records) {
    const size = recordBytes(record) + DELTA_ROOM;
    if (chunk.length > 0 && bytes + size > maxBytes) {
      yield chunk;
      chunk = [];
      bytes = RECORD_BATCH_OVERHEAD;
    }
    chunk.push(record);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * Adds to `ends` where a request's records landed, from each partition's base offset in the answer: the offset
 * after its last record (a request's records for a partition are one batch, in order).
 */
export function addSentEnds(
  ends: Map<string, bigint>,
  sent: readonly EncodedRecord[],
  bases: ReadonlyArray<{ readonly topic: string; readonly partition: number; readonly baseOffset: bigint }>,
): void {
  const counts = new Map<string, number>();
  for (const record of sent) {
    if (record.partition === undefined) continue; // placed by the partitioner: not needed
    const key = sentKey(record.topic, record.partition);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  for (const { topic, partition, baseOffset } of bases) {
    const count = counts.get(sentKey(topic, partition));
    if (count !== undefined && baseOffset >= 0n) ends.set(sentKey(topic, partition), baseOffset + BigInt(count));
  }
}
