import { randomUUID } from 'node:crypto';
import { Headers } from '@exactly/core';
import { testClient } from '@exactly/testkit';

/**
 * A read_committed reader of one output topic: how long each record took from its input's timestamp to being
 * visible to a reader like this one. Needs provenance headers (`exactly.source.timestamp`).
 */
export async function startDelayProbe(brokers: string, topic: string) {
  const delays: number[] = [];
  const consumer = testClient(brokers, 'exactly-demo-probe').consumer({
    groupId: `exactly-demo-probe-${randomUUID()}`,
    maxWaitTimeInMs: 50,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      for (const message of batch.messages) {
        const at = Number(message.headers?.[Headers.sourceTimestamp]?.toString());
        if (Number.isFinite(at)) delays.push(now - at);
      }
    },
  });
  return {
    seen: () => delays.length,
    stats: () => summarize(delays),
    stop: () => consumer.disconnect(),
  };
}

export function summarize(values: readonly number[]): { average: number; p99: number; max: number } {
  if (values.length === 0) return { average: 0, p99: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const average = values.reduce((sum, v) => sum + v, 0) / values.length;
  return {
    average,
    p99: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0,
    max: sorted[sorted.length - 1] ?? 0,
  };
}
