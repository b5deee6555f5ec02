import { kafkajs } from '@exactly/read-committed';
import type { Kafka } from 'kafkajs';

// KafkaJS with Kafka's read_committed rule: the checker must not take an aborted record for a committed one.
const { logLevel } = kafkajs;

/** A quiet KafkaJS client for test tooling (the runtime has its own adapter). */
export function testClient(brokers: string, clientId = 'exactly-testkit'): Kafka {
  return new kafkajs.Kafka({
    clientId,
    brokers: brokers.split(',').map((b) => b.trim()),
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 100 },
  });
}

export interface TopicSpec {
  readonly name: string;
  readonly partitions?: number;
}

/** Creates the topics that do not exist yet and waits until their leaders are known. */
export async function createTopics(brokers: string, topics: ReadonlyArray<TopicSpec | string>): Promise<void> {
  const admin = testClient(brokers).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics
      .map((t) => (typeof t === 'string' ? { name: t } : t))
      .filter((t) => !existing.has(t.name))
      .map((t) => ({ topic: t.name, numPartitions: t.partitions ?? 1, replicationFactor: 1 }));
    if (missing.length > 0) await admin.createTopics({ topics: missing, waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/** A topic name no other test uses. */
export function uniqueTopic(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
