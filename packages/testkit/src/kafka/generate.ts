import { type KafkaTarget, testClient } from './client.js';

export interface GenerateOptions {
  readonly brokers: KafkaTarget;
  readonly topic: string;
  readonly count: number;
  /** First id; ids run from `startId` to `startId + count - 1`. Default 0. */
  readonly startId?: number;
  /** Bytes of padding in each value, to reach a record size. Default 0. */
  readonly padding?: number;
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
  const pad = 'x'.repeat(options.padding ?? 0);
  try {
    for (let first = start; first < start + options.count; first += chunk) {
      const last = Math.min(first + chunk, start + options.count);
      const messages = [];
      for (let id = first; id < last; id++) {
        const key = options.keys === undefined ? id : id % options.keys;
        messages.push({ key: `key-${key}`, value: JSON.stringify({ id, pad }) });
      }
      await producer.send({ topic: options.topic, messages });
    }
  } finally {
    await producer.disconnect();
  }
}
