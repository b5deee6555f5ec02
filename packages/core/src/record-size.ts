import type { EncodedRecord } from './records.js';

/** A topic's `max.message.bytes` when neither it nor the broker sets another (Kafka's default). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/** A record batch's fixed header (magic v2): what a batch adds to the records in it. */
export const RECORD_BATCH_OVERHEAD = 61;

/**
 * Bytes a record takes as a record batch of its own, in Kafka's v2 format: what a broker compares with the
 * topic's `max.message.bytes` when the record is sent alone (uncompressed).
 */
export function recordBatchBytes(record: EncodedRecord): number {
  return RECORD_BATCH_OVERHEAD + recordBytes(record);
}

/**
 * Bytes a record takes inside a record batch (v2, uncompressed). Timestamp and offset deltas are counted as
 * small (one byte each, as for a batch's first records); a batch's later records may take a few bytes more.
 */
export function recordBytes(record: EncodedRecord): number {
  let body = 1 + 1 + 1; // attributes, timestamp delta, offset delta
  body += bytesField(record.key?.length);
  body += bytesField(record.value?.length);
  let headers = 0;
  // for-in, not Object.entries: this runs for every output record, and most have no headers.
  for (const name in record.headers) {
    const value = record.headers[name];
    if (value === undefined) continue;
    headers++;
    body += bytesField(Buffer.byteLength(name));
    body += bytesField(typeof value === 'string' ? Buffer.byteLength(value) : value.length);
  }
  body += varintBytes(headers);
  return varintBytes(body) + body;
}

/** A length-prefixed field: a varint length (-1 for null) and the bytes. */
function bytesField(length: number | undefined): number {
  return length === undefined ? varintBytes(-1) : varintBytes(length) + length;
}

/** Size of a zig-zag varint, as Kafka writes record fields. */
function varintBytes(value: number): number {
  let zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
  let bytes = 1;
  while (zigzag >= 0x80) {
    zigzag = Math.floor(zigzag / 0x80);
    bytes++;
  }
  return bytes;
}
