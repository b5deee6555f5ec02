import { setTimeout as delay } from 'node:timers/promises';
import { consumeToEnd, textHeaders } from './consume-to-end.js';

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
  const records: ReadRecord[] = [];
  await consumeToEnd(brokers, topic, { isolation, timeoutMs, clientId: 'exactly-reader' }, (batch) => {
    for (const message of batch.messages) {
      records.push({
        topic,
        partition: batch.partition,
        offset: message.offset,
        timestamp: Number(message.timestamp),
        key: message.key,
        value: message.value,
        headers: textHeaders(message),
      });
    }
  });
  return records;
}
