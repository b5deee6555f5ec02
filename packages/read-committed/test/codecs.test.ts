import { snappyCompress } from '@platformatic/wasm-utils';
import { describe, expect, test } from 'vitest';
import { kafkajs } from '../src/index.js';

/** Exactly's KafkaJS compresses and reads every Kafka codec, including Java's xerial-framed snappy. */
const { CompressionCodecs, CompressionTypes } = kafkajs;
type Codec = { compress(e: { buffer: Buffer }): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer> };
const codec = (type: number) => (CompressionCodecs as unknown as Record<number, () => Codec>)[type]?.() as Codec;

const records = Buffer.from(JSON.stringify(Array.from({ length: 200 }, (_, id) => ({ id, pad: 'x'.repeat(100) }))));

describe("Exactly's KafkaJS codecs", () => {
  test.each([
    ['snappy', CompressionTypes.Snappy],
    ['lz4', CompressionTypes.LZ4],
    ['zstd', CompressionTypes.ZSTD],
  ] as const)('%s: compresses, and reads back what it wrote', async (_name, type) => {
    const compressed = await codec(type).compress({ buffer: records });
    expect(compressed.length).toBeLessThan(records.length / 4);
    expect((await codec(type).decompress(compressed)).equals(records)).toBe(true);
  });

  test('snappy as Java producers frame it (xerial: magic, versions, length-prefixed blocks)', async () => {
    const halves = [records.subarray(0, 5000), records.subarray(5000)];
    const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
    const blocks = halves.map((half) => {
      const block = snappyCompress(half);
      const length = Buffer.alloc(4);
      length.writeUInt32BE(block.length);
      return Buffer.concat([length, block]);
    });
    const framed = Buffer.concat([header, ...blocks]);
    expect((await codec(CompressionTypes.Snappy).decompress(framed)).equals(records)).toBe(true);
  });

  test('a batch that does not decompress is an error naming the codec', async () => {
    await expect(codec(CompressionTypes.LZ4).decompress(Buffer.from('not lz4 at all'))).rejects.toThrow(
      /a record batch compressed with lz4 could not be decompressed/,
    );
  });
});
