import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { testClient } from './client.js';

export type IsolationLevel = 'read_committed' | 'read_uncommitted';

export interface ReadRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
}

export interface ReadTopicOptions {
  readonly isolation?: IsolationLevel;
  readonly timeoutMs?: number;
  /**
   * Read again until at least this many records are visible (within `timeoutMs`). For a reader that runs
   * right after its own commit: the broker answers a commit before it writes the commit markers, so for a few
   * milliseconds the last stable offset (the end a read_committed reader sees) may not include it yet.
   */
  readonly minRecords?: number;
}

/**
 * Reads a whole topic, from the start to its end when the call begins, with its own consumer (a fresh group
 * that never commits). With `read_committed` (the default) it sees only committed records, and "the end" is
 * the last stable offset: records of a transaction still open (or whose markers are still being written) are
 * beyond it. Call it when writers are quiet, or pass `minRecords`.
 */
export async function readTopic(brokers: string, topic: string, options: ReadTopicOptions = {}): Promise<ReadRecord[]> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    const records = await readOnce(brokers, topic, options.isolation ?? 'read_committed', deadline - Date.now());
    if (records.length >= (options.minRecords ?? 0) || Date.now() >= deadline) return records;
    await delay(50);
  }
}

async function readOnce(
  brokers: string,
  topic: string,
  isolation: IsolationLevel,
  timeoutMs: number,
): Promise<ReadRecord[]> {
  const kafka = testClient(brokers, 'exactly-reader');
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<number, bigint>();
  try {
    for (const { partition, high, low } of await admin.fetchTopicOffsets(topic)) {
      if (BigInt(high) > BigInt(low)) ends.set(partition, BigInt(high));
    }
  } finally {
    await admin.disconnect();
  }
  const records: ReadRecord[] = [];
  if (ends.size === 0) return records;

  const consumer = kafka.consumer({
    groupId: `exactly-reader-${randomUUID()}`,
    readUncommitted: isolation === 'read_uncommitted',
    maxBytes: 64 * 1024 * 1024,
    maxBytesPerPartition: 16 * 1024 * 1024,
  });
  const positions = new Map<number, bigint>();
  const caughtUp = () => [...ends].every(([partition, end]) => (positions.get(partition) ?? -1n) >= end);
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  // lastOffset counts control records (commit/abort markers) too, so it is the reader's true position.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    positions.set(payload.partition, BigInt(payload.lastOffset) + 1n);
    if (caughtUp()) finish();
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(message.headers ?? {})) {
            const last = Array.isArray(value) ? value[value.length - 1] : value;
            if (last !== undefined) headers[name] = last.toString();
          }
          records.push({
            topic,
            partition: batch.partition,
            offset: message.offset,
            timestamp: Number(message.timestamp),
            key: message.key,
            value: message.value,
            headers,
          });
        }
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const behind = [...ends]
          .filter(([p, end]) => (positions.get(p) ?? -1n) < end)
          .map(([p, end]) => `partition ${p} at ${positions.get(p) ?? 'start'} of ${end}`);
        reject(
          new Error(`readTopic(${topic}, ${isolation}) did not reach the end in ${timeoutMs} ms: ${behind.join('; ')}`),
        );
      }, timeoutMs);
    });
    try {
      await Promise.race([done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await consumer.disconnect();
  }
  return records;
}
