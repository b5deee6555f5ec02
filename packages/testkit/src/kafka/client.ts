import { setTimeout as delay } from 'node:timers/promises';
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
  /** Topic configs, e.g. `{ 'message.timestamp.type': 'LogAppendTime' }`. */
  readonly config?: Readonly<Record<string, string>>;
}

/** Creates the topics that do not exist yet and waits until every partition of each has a leader. */
export async function createTopics(brokers: string, topics: ReadonlyArray<TopicSpec | string>): Promise<void> {
  const specs = topics.map((t) => (typeof t === 'string' ? { name: t } : t));
  const admin = testClient(brokers).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs
      .filter((t) => !existing.has(t.name))
      .map((t) => ({
        topic: t.name,
        numPartitions: t.partitions ?? 1,
        replicationFactor: 1,
        configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })),
      }));
    if (missing.length === 0) return;
    await admin.createTopics({ topics: missing, waitForLeaders: false });
    // Not KafkaJS's waitForLeaders: it gives up on UNKNOWN_TOPIC_OR_PARTITION, which a KRaft broker answers for
    // a moment after creating topics (every time on a broker just started, and with many partitions).
    const names = missing.map((t) => t.topic);
    const wanted = new Map(missing.map((t) => [t.topic, t.numPartitions]));
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ready = await admin
        .fetchTopicMetadata({ topics: names })
        .then(({ topics: found }) =>
          found.every((t) => t.partitions.length === wanted.get(t.name) && t.partitions.every((p) => p.leader >= 0)),
        )
        .catch(() => false);
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`topics ${names.join(', ')} have no leaders after 30 s`);
      await delay(100);
    }
  } finally {
    await admin.disconnect();
  }
}

/** A topic name no other test uses. */
export function uniqueTopic(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
