import { findTransactionCoordinator, kafkajs, PartitionReader, StableOffsets } from '@exactly/read-committed';
import type { Kafka } from 'kafkajs';
import type { AdminPort, TopicSpec } from '../../port/client.js';
import { settingsOf } from '../topic-settings.js';
import { guard } from './guard.js';

export function kafkaJsAdmin(kafka: Kafka): AdminPort {
  const admin = kafka.admin();
  // Read with require_stable: a pending transactional commit of another transactional.id is waited for.
  const stable = new StableOffsets(kafka);
  const reader = new PartitionReader(kafka);
  let connected: Promise<void> | undefined;
  // A failed connect is forgotten, so the next call tries again (start-up retries while Kafka is down).
  const ready = () => {
    connected ??= guard(() => admin.connect()).catch((error: unknown) => {
      connected = undefined;
      throw error;
    });
    return connected;
  };
  return {
    async partitionCounts(topics) {
      await ready();
      const existing = new Set(await guard(() => admin.listTopics()));
      const wanted = topics.filter((t) => existing.has(t));
      const counts = new Map<string, number>();
      if (wanted.length === 0) return counts;
      const { topics: metadata } = await guard(() => admin.fetchTopicMetadata({ topics: wanted }));
      for (const topic of metadata) counts.set(topic.name, topic.partitions.length);
      return counts;
    },
    async createTopics(specs: readonly TopicSpec[]) {
      await ready();
      await guard(() =>
        admin.createTopics({
          waitForLeaders: true,
          topics: specs.map((s) => ({
            topic: s.name,
            numPartitions: s.partitions,
            replicationFactor: -1,
            configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
          })),
        }),
      );
    },
    async topicSettings(topics, setting) {
      await ready();
      const { resources } = await guard(() =>
        admin.describeConfigs({
          includeSynonyms: false,
          resources: topics.map((name) => ({
            type: kafkajs.ConfigResourceTypes.TOPIC,
            name,
            configNames: [setting],
          })),
        }),
      );
      return settingsOf(
        setting,
        resources.map((r) => ({ topic: r.resourceName, entries: r.configEntries })),
      );
    },
    committedOffsets: (groupId, topic, partitions) => guard(() => stable.of(groupId, topic, partitions)),
    offsetRange: (topic, partition) => guard(() => reader.offsetRange(topic, partition)),
    checkTransactionalId: (transactionalId) => guard(() => findTransactionCoordinator(kafka, transactionalId)),
    readToEnd: (topic, partition, from, onRecords) =>
      guard(() =>
        reader.read(topic, partition, from, (records) => onRecords(records.map((r) => ({ ...r, topic, partition })))),
      ),
    async close() {
      await stable.close();
      await reader.close();
      if (connected) await admin.disconnect().catch(() => {});
    },
  };
}
