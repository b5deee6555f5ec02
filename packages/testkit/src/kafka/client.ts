import { setTimeout as delay } from 'node:timers/promises';
import { type KafkaSecurity, nodeTlsOptions } from '@exactly/core';
import { kafkajs } from '@exactly/read-committed';
import type { Admin, Kafka, SASLOptions } from 'kafkajs';

// KafkaJS with Kafka's read_committed rule: the checker must not take an aborted record for a committed one.
const { logLevel } = kafkajs;

/** Where test tooling connects: comma-separated brokers, or brokers with TLS/SASL settings. */
export type KafkaTarget = string | ({ readonly brokers: string } & KafkaSecurity);

/** The brokers of a target, comma-separated (for logs and messages). */
export const brokersOf = (target: KafkaTarget): string => (typeof target === 'string' ? target : target.brokers);

/** A quiet KafkaJS client for test tooling (the runtime has its own adapter). */
export function testClient(target: KafkaTarget, clientId = 'exactly-testkit'): Kafka {
  const security: KafkaSecurity = typeof target === 'string' ? {} : target;
  return new kafkajs.Kafka({
    clientId,
    brokers: brokersOf(target)
      .split(',')
      .map((b) => b.trim()),
    ssl: nodeTlsOptions(security.ssl),
    sasl: security.sasl as SASLOptions | undefined,
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
export async function createTopics(brokers: KafkaTarget, topics: ReadonlyArray<TopicSpec | string>): Promise<void> {
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
        replicationFactor: -1, // the cluster's default.replication.factor (3 on a 3-node local cluster)
        configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })),
      }));
    if (missing.length === 0) return;
    await admin.createTopics({ topics: missing, waitForLeaders: false });
    await waitForLeaders(admin, new Map(missing.map((t) => [t.topic, t.numPartitions])));
  } finally {
    await admin.disconnect();
  }
}

/**
 * Waits until each topic's metadata lists every partition with a leader (`partitions` of them, where given).
 * Not KafkaJS's waitForLeaders: it gives up on UNKNOWN_TOPIC_OR_PARTITION, which a KRaft broker answers for
 * a moment after creating topics (every time on a broker just started, and with many partitions).
 */
export async function waitForLeaders(
  admin: Admin,
  topics: ReadonlyMap<string, number | undefined>,
  timeoutMs = 30_000,
): Promise<void> {
  const names = [...topics.keys()];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = await admin
      .fetchTopicMetadata({ topics: names })
      .then(({ topics: found }) =>
        names.every((name) => {
          const topic = found.find((t) => t.name === name);
          const wanted = topics.get(name);
          return (
            topic !== undefined &&
            topic.partitions.length > 0 &&
            (wanted === undefined || topic.partitions.length === wanted) &&
            topic.partitions.every((p) => p.leader >= 0)
          );
        }),
      )
      .catch(() => false);
    if (ready) return;
    if (Date.now() > deadline)
      throw new Error(`topics ${names.join(', ')} have no leader for every partition after ${timeoutMs / 1000} s`);
    await delay(100);
  }
}

/** Runs `work` with a connected admin of the test client, and disconnects it. */
export async function withAdmin<T>(brokers: KafkaTarget, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = testClient(brokers).admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

/** A topic name no other test uses. */
export function uniqueTopic(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
