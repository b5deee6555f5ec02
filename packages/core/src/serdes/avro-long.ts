import type { Type } from 'avsc';
import avsc from 'avsc';

type AvscSchema = Parameters<typeof avsc.Type.forSchema>[0];

const MIN_LONG = -(2n ** 63n);
const MAX_LONG = 2n ** 63n - 1n;

/**
 * Avro `long` as a JavaScript `bigint`. avsc's default long is a `number`, which silently rounds anything
 * beyond 2^53; a bigint keeps all 64 bits, so a long decodes and re-encodes to the same bytes.
 */
const bigintLong = avsc.types.LongType.__with({
  fromBuffer: (buf: Buffer): bigint => buf.readBigInt64LE(),
  toBuffer: (value: bigint): Buffer => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(value);
    return buf;
  },
  // Schema defaults arrive as JSON numbers (or strings, for values beyond 2^53).
  fromJSON: (value: number | string | bigint): bigint => BigInt(value),
  toJSON: (value: bigint): number | string => (isSafe(value) ? Number(value) : String(value)),
  isValid: (value: unknown): boolean => typeof value === 'bigint' && value >= MIN_LONG && value <= MAX_LONG,
  compare: (a: bigint, b: bigint): number => (a === b ? 0 : a < b ? -1 : 1),
});

function isSafe(value: bigint): boolean {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER);
}

/** Builds an avsc type whose longs are bigints. A fresh registry each call: avsc adds named types to it. */
export function avroType(schema: unknown): Type {
  return avsc.Type.forSchema(schema as AvscSchema, { registry: { long: bigintLong } });
}
