import type { EncodedRecord } from '@exactly/core';

/** Approximate bytes a record takes in a request: enough to stay under the broker's limit. */
export function recordSize(record: EncodedRecord): number {
  let size = 64 + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  for (const [name, value] of Object.entries(record.headers)) size += name.length + value.length + 8;
  return size;
}

export function* chunksBySize(records: readonly EncodedRecord[], maxBytes: number): Generator<EncodedRecord[]> {
  let chunk: EncodedRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = recordSize(record);
    if (chunk.length > 0 && bytes + size > maxBytes) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(record);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}
