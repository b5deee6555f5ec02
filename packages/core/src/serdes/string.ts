import type { Serde } from '../serde.js';

/** UTF-8 text. Decoding refuses bytes that are not valid UTF-8 rather than inventing U+FFFD characters. */
export function string(): Serde<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  return {
    name: 'string',
    serialize: (value) => {
      if (typeof value !== 'string') throw new TypeError(`expected a string, got ${typeof value}`);
      return Buffer.from(value, 'utf8');
    },
    deserialize: (bytes) => {
      try {
        return decoder.decode(bytes);
      } catch {
        throw new TypeError('bytes are not valid UTF-8');
      }
    },
  };
}
