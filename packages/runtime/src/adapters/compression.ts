import * as zlib from 'node:zlib';

/**
 * Whether this Node can write zstd: both clients compress it with Node's zlib, which has it from 22.15. (Every
 * Node reads it: KafkaJS's codec falls back to a JavaScript decoder, and platformatic needs Node 22.22+ anyway.)
 */
export const nodeWritesZstd = typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';
