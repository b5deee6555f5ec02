import { randomBytes } from 'node:crypto';
import { compatibilityPartitioner, type MessageToProduce } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { keyedPartition, murmur2 } from '../src/adapters/murmur2.js';

describe("murmur2: the Java client's key hash in 32-bit arithmetic", () => {
  it("gives the Java client's values (Apache Kafka's UtilsTest cases)", () => {
    const cases: Array<[string | number[], number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      [[0x61, 0x62, 0x63], 479470107],
    ];
    for (const [input, expected] of cases) {
      expect(murmur2(typeof input === 'string' ? Buffer.from(input) : Uint8Array.from(input))).toBe(expected);
    }
  });

  it('picks the partition @platformatic/kafka’s Java-compatible partitioner picks, for keys of every length', () => {
    const message = { topic: 't' } as MessageToProduce;
    for (let length = 0; length < 64; length++) {
      for (let i = 0; i < 20; i++) {
        const key = randomBytes(length);
        expect(keyedPartition(key)).toBe(compatibilityPartitioner(message, key));
      }
    }
  });
});
