import type { Serde } from '../serde.js';

/** Raw bytes, passed through untouched. */
export function bytes(): Serde<Buffer> {
  return {
    name: 'bytes',
    serialize: (value) => {
      if (!Buffer.isBuffer(value)) throw new TypeError('expected a Buffer');
      return value;
    },
    deserialize: (bytes) => bytes,
  };
}
