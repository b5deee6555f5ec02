/**
 * Confluent's wire format for registry-backed records: magic byte 0, the schema id as a 4-byte big-endian
 * integer, then the serialized body. Kept apart from Avro so the framing is testable on its own.
 */
export const MAGIC_BYTE = 0;
const HEADER_BYTES = 5;

export function frame(schemaId: number, body: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt8(MAGIC_BYTE, 0);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}

/** Splits a framed record; throws a message a person can act on when the bytes are not framed. */
export function unframe(bytes: Buffer): { readonly schemaId: number; readonly body: Buffer } {
  if (bytes.length < HEADER_BYTES) {
    throw new TypeError(
      `${bytes.length} byte(s) is too short for the schema registry wire format (magic byte 0 + 4-byte schema id)`,
    );
  }
  const magic = bytes.readUInt8(0);
  if (magic !== MAGIC_BYTE) {
    throw new TypeError(
      `magic byte is ${magic}, expected ${MAGIC_BYTE}: not written with a schema registry serializer`,
    );
  }
  return { schemaId: bytes.readInt32BE(1), body: bytes.subarray(HEADER_BYTES) };
}
