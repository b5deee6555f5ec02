import type { Kafka } from 'kafkajs';
import { createCluster, READ_UNCOMMITTED } from './kafkajs-cluster.js';

/**
 * Each partition's log start and log end (the high watermark). KafkaJS's admin lists offsets read_committed only,
 * so its "high" is the last stable offset: a reader that stops there misses a committed transaction whose markers
 * the broker has not written yet, and it cannot tell. A cluster of KafkaJS's own, read_uncommitted, asks for both.
 */
export async function logOffsets(kafka: Kafka, topic: string): Promise<Map<number, { start: bigint; end: bigint }>> {
  const cluster = createCluster(kafka, READ_UNCOMMITTED);
  await cluster.connect();
  try {
    await cluster.addTargetTopic(topic);
    const partitions = cluster.findTopicPartitionMetadata(topic).map((p) => ({ partition: p.partitionId }));
    const list = async (fromBeginning: boolean) => {
      const [offsets] = await cluster.fetchTopicsOffset([{ topic, fromBeginning, partitions }]);
      return new Map((offsets?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
    };
    const [starts, ends] = await Promise.all([list(true), list(false)]);
    return new Map([...ends].map(([partition, end]) => [partition, { start: starts.get(partition) ?? 0n, end }]));
  } finally {
    await cluster.disconnect();
  }
}
