import { type EncodedRecord, RECORD_BATCH_OVERHEAD, recordBytes } from '@exactly/core';

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
