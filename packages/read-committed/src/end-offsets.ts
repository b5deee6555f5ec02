import type { Kafka } from 'kafkajs';

/** KafkaJS's cluster, as far as it is used here (KafkaJS 2.2.4, not typed by it). */
interface Cluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number }[];
  fetchTopicsOffset(
    topics: { topic: string; fromBeginning: boolean; partitions: { partition: number }[] }[],
  ): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}

const READ_UNCOMMITTED = 0;

/**
 * Each partition's log start and log end (the high watermark). KafkaJS's admin lists offsets read_committed only,
 * so its "high" is the last stable offset: a reader that stops there misses a committed transaction whose markers
 * the broker has not written yet, and it cannot tell. A cluster of KafkaJS's own, read_uncommitted, asks for both.
 */
export async function logOffsets(kafka: Kafka, topic: string): Promise<Map<number, { start: bigint; end: bigint }>> {
  const createCluster = Object.getOwnPropertySymbols(kafka).find(
    (symbol) => symbol.description === 'private:Kafka:createCluster',
  );
  const factory = createCluster && (kafka as unknown as Record<symbol, unknown>)[createCluster];
  if (typeof factory !== 'function') throw new Error('this KafkaJS has no cluster factory (Exactly expects 2.2.4)');
  const cluster = (factory as (options: { isolationLevel: number }) => Cluster)({ isolationLevel: READ_UNCOMMITTED });
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
