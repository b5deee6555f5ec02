import { createRequire } from 'node:module';
import * as zlib from 'node:zlib';
import { lz4Compress, lz4Decompress, snappyCompress, snappyDecompress } from '@platformatic/wasm-utils';
import type * as KafkaJS from 'kafkajs';

/**
 * The codecs KafkaJS lacks (it reads only gzip), so that it reads any input a Kafka producer writes and can
 * compress outputs. LZ4 and snappy: @platformatic/wasm-utils (WebAssembly, no native build; the codecs the other
 * client, @platformatic/kafka, uses). zstd: Node's zlib where it has it (22.15+), else fzstd (pure JavaScript,
 * decompression only), which also reads the frames librdkafka writes without a content size.
 */
const require = createRequire(import.meta.url);

/** A KafkaJS codec: `encoder.buffer` holds the records to compress. */
interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

/** Java producers frame snappy the xerial way: a magic header, then length-prefixed blocks. */
const XERIAL = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);

function snappyRead(buffer: Buffer): Buffer {
  if (buffer.length < 16 || !buffer.subarray(0, 8).equals(XERIAL)) return snappyDecompress(buffer);
  const blocks: Buffer[] = [];
  for (let offset = 16; offset < buffer.length; ) {
    if (offset + 4 > buffer.length) throw new Error('snappy (xerial): a block length is cut short');
    const length = buffer.readUInt32BE(offset);
    offset += 4;
    if (offset + length > buffer.length) throw new Error('snappy (xerial): a block is cut short');
    blocks.push(snappyDecompress(buffer.subarray(offset, offset + length)));
    offset += length;
  }
  return Buffer.concat(blocks);
}

const hasZstd = typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';
type Zlib = typeof zlib & {
  zstdCompressSync(buffer: Buffer): Buffer;
  zstdDecompressSync(buffer: Buffer): Buffer;
};

function zstdRead(buffer: Buffer): Buffer {
  if (hasZstd) return (zlib as Zlib).zstdDecompressSync(buffer);
  const { decompress } = require('fzstd') as { decompress(data: Uint8Array): Uint8Array };
  return Buffer.from(decompress(buffer));
}

/** Each codec's name, as Kafka and the `compression` option call it. */
export const CODECS = {
  snappy: { compress: (b: Buffer) => snappyCompress(b), decompress: snappyRead },
  lz4: { compress: (b: Buffer) => lz4Compress(b), decompress: (b: Buffer) => lz4Decompress(b) },
  zstd: {
    compress: (b: Buffer) => {
      if (!hasZstd) throw new Error(`zstd compression needs Node 22.15 or later (this is ${process.versions.node})`);
      return (zlib as Zlib).zstdCompressSync(b);
    },
    decompress: zstdRead,
  },
} as const;

function kafkaJsCodec(name: keyof typeof CODECS): Codec {
  const codec = CODECS[name];
  return {
    compress: async (encoder) => codec.compress(encoder.buffer),
    async decompress(buffer) {
      try {
        return codec.decompress(buffer);
      } catch (error) {
        throw new Error(
          `a record batch compressed with ${name} could not be decompressed: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
    },
  };
}

/** Plugs the codecs into a KafkaJS module (its CompressionCodecs table is shared by its producers and consumers). */
export function addCodecs(kafkajs: typeof KafkaJS): void {
  const { CompressionCodecs, CompressionTypes } = kafkajs;
  const table = CompressionCodecs as unknown as Record<number, () => Codec>;
  table[CompressionTypes.Snappy] = () => kafkaJsCodec('snappy');
  table[CompressionTypes.LZ4] = () => kafkaJsCodec('lz4');
  table[CompressionTypes.ZSTD] = () => kafkaJsCodec('zstd');
}
