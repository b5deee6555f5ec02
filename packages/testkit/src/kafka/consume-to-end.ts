import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { logOffsets } from '@exactly/read-committed';
import type { Batch, KafkaMessage } from 'kafkajs';
import { type KafkaTarget, testClient } from './client.js';
import type { IsolationLevel } from './read-topic.js';

export interface ConsumeToEndOptions {
  readonly isolation: IsolationLevel;
  readonly timeoutMs: number;
  /** Bytes per partition per fetch; larger fetches mean fewer round trips (and fewer lone marker fetches). */
  readonly maxBytesPerPartition?: number;
  readonly clientId: string;
}

/**
 * Consumes `topic` from the start to its log end when the call begins, with a fresh group that never commits,
 * handing every batch to `onBatch`. A read_committed reader gets there only when every transaction before the
 * end is decided and its markers written, so it waits for those (up to `timeoutMs`) rather than miss them.
 */
export async function consumeToEnd(
  brokers: KafkaTarget,
  topic: string,
  options: ConsumeToEndOptions,
  onBatch: (batch: Batch) => void,
): Promise<void> {
  const kafka = testClient(brokers, options.clientId);
  const ends = new Map<number, bigint>();
  // The log end, not the admin's "high" (the last stable offset): a reader stopping there would miss a
  // transaction already committed whose markers the broker has not written yet.
  const offsets = await retriedWhileRetriable(() => logOffsets(kafka, topic), Date.now() + options.timeoutMs);
  for (const [partition, { start, end }] of offsets) if (end > start) ends.set(partition, end);
  if (ends.size === 0) return;

  const consumer = kafka.consumer({
    groupId: `${options.clientId}-${randomUUID()}`,
    readUncommitted: options.isolation === 'read_uncommitted',
    maxBytes: 64 * 1024 * 1024,
    maxBytesPerPartition: options.maxBytesPerPartition ?? 16 * 1024 * 1024,
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
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ autoCommit: false, eachBatch: async ({ batch }) => onBatch(batch) });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const behind = [...ends]
          .filter(([p, end]) => (positions.get(p) ?? -1n) < end)
          .map(([p, end]) => `partition ${p} at ${positions.get(p) ?? 'start'} of ${end}`);
        reject(
          new Error(
            `reading ${topic} (${options.isolation}) did not reach the end in ${options.timeoutMs} ms: ${behind.join('; ')}`,
          ),
        );
      }, options.timeoutMs);
    });
    await Promise.race([done, timeout]);
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
}

/** A record's headers as text (the last value of a repeated header). */
export function textHeaders(message: KafkaMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) headers[name] = last.toString();
  }
  return headers;
}

/**
 * `step` again while it fails with a retriable broker error, until `deadline`: a topic created a moment ago
 * answers NOT_LEADER or UNKNOWN_TOPIC_OR_PARTITION for a while after its metadata lists a leader.
 */
async function retriedWhileRetriable<T>(step: () => Promise<T>, deadline: number): Promise<T> {
  for (;;) {
    try {
      return await step();
    } catch (error) {
      if ((error as { retriable?: boolean }).retriable !== true || Date.now() > deadline) throw error;
      await delay(100);
    }
  }
}
