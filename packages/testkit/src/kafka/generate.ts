import { type KafkaTarget, testClient } from './client.js';

export interface GenerateOptions {
  readonly brokers: KafkaTarget;
  readonly topic: string;
  readonly count: number;
  /** First id; ids run from `startId` to `startId + count - 1`. Default 0. */
  readonly startId?: number;
  /** Bytes of padding in each value, to reach a record size. Default 0. */
  readonly padding?: number;
  /**
   * `repeat` (default): the padding is one letter repeated, which compresses to almost nothing. `words`: words
   * drawn from a small vocabulary, different in each record, which compresses about as much as real JSON text.
   */
  readonly paddingKind?: 'repeat' | 'words';
  /** Records per produce call. Default 1000. */
  readonly chunk?: number;
  /** Distinct keys: record `id` is keyed `key-<id % keys>`. Default: every record its own key. */
  readonly keys?: number;
}

/** Writes `count` JSON records `{ id, pad }` keyed `key-<id>` (or `key-<id % keys>`), with an idempotent producer. */
export async function generateRecords(options: GenerateOptions): Promise<void> {
  const producer = testClient(options.brokers, 'exactly-generator').producer({
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  const start = options.startId ?? 0;
  const chunk = options.chunk ?? 1000;
  const fixed = 'x'.repeat(options.padding ?? 0);
  const padOf = (id: number) => (options.paddingKind === 'words' ? words(id, options.padding ?? 0) : fixed);
  try {
    for (let first = start; first < start + options.count; first += chunk) {
      const last = Math.min(first + chunk, start + options.count);
      const messages = [];
      for (let id = first; id < last; id++) {
        const key = options.keys === undefined ? id : id % options.keys;
        messages.push({ key: `key-${key}`, value: JSON.stringify({ id, pad: padOf(id) }) });
      }
      await producer.send({ topic: options.topic, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

const VOCABULARY = (
  'order customer account payment invoice shipment amount currency status created updated pending settled ' +
  'refund address street city country postal email phone item quantity price discount total tax warehouse ' +
  'carrier tracking region channel priority note reference approved declined review merchant terminal card'
).split(' ');

/** `length` characters of words picked by a small deterministic generator seeded with `id`. */
function words(id: number, length: number): string {
  let state = (id * 2654435761) >>> 0 || 1;
  const out: string[] = [];
  let size = 0;
  while (size < length) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    const word = `${VOCABULARY[state % VOCABULARY.length]}${state % 7 === 0 ? (state % 1000).toString() : ''}`;
    out.push(word);
    size += word.length + 1;
  }
  return out.join(' ').slice(0, length);
}
