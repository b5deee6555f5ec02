import { setTimeout as delay } from 'node:timers/promises';
import type { KafkaTarget } from './client.js';
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
  /** The producer id that wrote it (-1 for a producer without one): which writer, when two wrote the same. */
  readonly producerId: string;
}

export interface ReadTopicOptions {
  readonly isolation?: IsolationLevel;
  readonly timeoutMs?: number;
  /** Read again until at least this many records are there (within `timeoutMs`): for writers still running. */
  readonly minRecords?: number;
}

/**
 * Reads a whole topic, from the start to its log end when the call begins, with its own consumer (a fresh group
 * that never commits). With `read_committed` (the default) it sees only committed records, and waits until every
 * transaction before that end is decided and its markers are written (so a commit the broker has acknowledged
 * is never missed); a transaction left open holds it until the broker aborts it or `timeoutMs` passes.
 */
export async function readTopic(
  brokers: KafkaTarget,
  topic: string,
  options: ReadTopicOptions = {},
): Promise<ReadRecord[]> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    const records = await readOnce(brokers, topic, options.isolation ?? 'read_committed', deadline - Date.now());
    if (records.length >= (options.minRecords ?? 0) || Date.now() >= deadline) return records;
    await delay(50);
  }
}

async function readOnce(
  brokers: KafkaTarget,
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
        // KafkaJS keeps the record batch's producer on each message, untyped.
        producerId: (message as { batchContext?: { producerId?: string } }).batchContext?.producerId ?? '-1',
      });
    }
  });
  return records;
}
