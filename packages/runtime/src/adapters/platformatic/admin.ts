import { Admin, ConfigResourceTypes, FindCoordinatorKeyTypes } from '@platformatic/kafka';
import type { AdminPort, TopicSpec } from '../../port/client.js';
import { ClientError } from '../../port/errors.js';
import { settingsOf } from '../topic-settings.js';
import { guard } from './classify.js';
import { baseOptions, type PlatformaticConnection } from './connection.js';
import { PartitionReader } from './partition-reader.js';

export function platformaticAdmin(connection: PlatformaticConnection): AdminPort {
  const admin = new Admin(baseOptions(connection, 'admin', false));
  const reader = new PartitionReader(connection);
  return {
    async partitionCounts(topics) {
      const existing = new Set(await guard(() => admin.listTopics()));
      const wanted = topics.filter((t) => existing.has(t));
      const counts = new Map<string, number>();
      if (wanted.length === 0) return counts;
      const metadata = await guard(() => admin.metadata({ topics: wanted, forceUpdate: true }));
      for (const [name, topic] of metadata.topics) if (wanted.includes(name)) counts.set(name, topic.partitionsCount);
      return counts;
    },
    async createTopics(specs: readonly TopicSpec[]) {
      for (const spec of specs) {
        const configs = Object.entries(spec.config ?? {}).map(([name, value]) => ({ name, value }));
        await guard(() =>
          admin.createTopics({ topics: [spec.name], partitions: spec.partitions, replicas: -1, configs }),
        ).catch((error: unknown) => {
          // Another instance (or worker) starting at the same moment created it: what was wanted.
          if (!(error instanceof ClientError && error.code === 'TOPIC_ALREADY_EXISTS')) throw error;
        });
      }
    },
    async topicSettings(topics, setting) {
      const described = await guard(() =>
        admin.describeConfigs({
          resources: topics.map((resourceName) => ({
            resourceType: ConfigResourceTypes.TOPIC,
            resourceName,
            configurationKeys: [setting],
          })),
        }),
      );
      return settingsOf(
        setting,
        described.map((d) => ({
          topic: d.resourceName,
          entries: d.configs.map((c) => ({ configName: c.name, configValue: c.value })),
        })),
      );
    },
    async committedOffsets(groupId, topic, partitions) {
      const groups = await guard(() =>
        admin.listConsumerGroupOffsets({
          groups: [{ groupId, topics: [{ name: topic, partitionIndexes: [...partitions] }] }],
          requireStable: true,
        }),
      );
      const offsets = new Map<number, string | null>();
      for (const { partitionIndex, committedOffset } of groups[0]?.topics.find((t) => t.name === topic)?.partitions ??
        [])
        offsets.set(partitionIndex, committedOffset < 0n ? null : committedOffset.toString());
      return offsets;
    },
    offsetRange: (topic, partition) => reader.offsetRange(topic, partition),
    readToEnd: (topic, partition, from, onRecords) => reader.read(topic, partition, from, onRecords),
    async checkTransactionalId(transactionalId) {
      await guard(() =>
        admin.findCoordinator({ keyType: FindCoordinatorKeyTypes.TRANSACTION, keys: [transactionalId] }),
      );
    },
    close: async () => {
      await reader.close();
      await admin.close().catch(() => {});
    },
  };
}
