import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** KafkaJS 2.2.4's internals the producer's send uses, as far as this module needs them (not typed by KafkaJS). */
interface Message {
  readonly partition?: number;
}
interface PartitionMetadata {
  readonly partitionId: number;
}
interface Broker {
  readonly nodeId: number;
  produce(request: Record<string, unknown>): Promise<unknown>;
}
interface Cluster {
  refreshMetadataIfNecessary(): Promise<void>;
  refreshMetadata(): Promise<void>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  findTopicPartitionMetadata(topic: string): PartitionMetadata[];
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(options: { nodeId: string }): Promise<Broker>;
  isConnected(): boolean;
  connect(): Promise<void>;
  removeBroker(options: { host: string; port: number }): void;
}
interface EosManager {
  isTransactional(): boolean;
  getTransactionalId(): string;
  getProducerId(): unknown;
  getProducerEpoch(): unknown;
  addPartitionsToTransaction(topicData: TopicData[]): Promise<void>;
  getSequence(topic: string, partition: number): number;
  updateSequence(topic: string, partition: number, increment: number): void;
  acquireBrokerLock(broker: Broker): Promise<void>;
  releaseBrokerLock(broker: Broker): Promise<void>;
}
type Partitioner = (options: { topic: string; partitionMetadata: PartitionMetadata[]; message: Message }) => number;
type Retrier = <T>(
  attempt: (bail: (error: Error) => void, retryCount: number, retryTime: number) => Promise<T>,
) => Promise<T>;
interface Logger {
  debug(message: string, extra?: object): void;
  error(message: string, extra?: object): void;
}
interface TopicData {
  topic: string;
  partitions: { partition: number; messages: Message[]; firstSequence?: number }[];
}
interface ProduceResult {
  readonly topicName: string;
  readonly partition: number;
}

/** KafkaJS's own helpers, required when a producer is made (after the loader has loaded KafkaJS). */
function kafkaJsHelpers() {
  return {
    ...(require('kafkajs/src/errors') as { KafkaJSMetadataNotLoaded: new (message: string) => Error }),
    ...(require('kafkajs/src/protocol/error') as { staleMetadata(error: unknown): boolean }),
    responseSerializer: require('kafkajs/src/producer/responseSerializer') as (response: unknown) => ProduceResult[],
  };
}

/**
 * Drop-in for KafkaJS's `producer/sendMessages.js` (2.2.4), which loses records when a partition's leader moves
 * during a send: it remembers which *brokers* answered, and on the retry (with fresh metadata) skips every
 * broker that did, so a partition that moved from the failed broker to one that had already answered is never
 * sent, and send() resolves as if it had been (found by chaos on 3 nodes: 164 of 20,000 records gone, in a
 * transaction as well as outside one). This one remembers which *partitions* were written, and sends the others
 * to their current leaders once every request of the attempt before has settled. It also partitions each message once per send (the original re-partitioned on each
 * retry, so a keyless message written on the first try could go to another partition on the second), in linear
 * time (the original copies a partition's array for each message).
 */
export function createSendMessages({
  logger,
  cluster,
  partitioner,
  eosManager,
  retrier,
}: {
  logger: Logger;
  cluster: Cluster;
  partitioner: Partitioner;
  eosManager: EosManager;
  retrier: Retrier;
}) {
  const { KafkaJSMetadataNotLoaded, staleMetadata, responseSerializer } = kafkaJsHelpers();
  return async ({
    acks,
    timeout,
    compression,
    topicMessages,
  }: {
    acks: number;
    timeout: number;
    compression: unknown;
    topicMessages: { topic: string; messages: Message[] }[];
  }): Promise<ProduceResult[]> => {
    /** Each topic's messages by partition, chosen once. */
    let byPartition: Map<string, Map<number, Message[]>> | undefined;
    /** What each written partition's leader answered, by `topic:partition`. */
    const written = new Map<string, ProduceResult[]>();

    const group = () => {
      const grouped = new Map<string, Map<number, Message[]>>();
      for (const { topic, messages } of topicMessages) {
        const partitionMetadata = cluster.findTopicPartitionMetadata(topic);
        if (partitionMetadata.length === 0) {
          logger.debug('Producing to topic without metadata', { topic });
          throw new KafkaJSMetadataNotLoaded('Producing to topic without metadata');
        }
        const partitions = grouped.get(topic) ?? new Map<number, Message[]>();
        for (const message of messages) {
          const partition = partitioner({ topic, partitionMetadata, message });
          const list = partitions.get(partition);
          if (list) list.push(message);
          else partitions.set(partition, [message]);
        }
        grouped.set(topic, partitions);
      }
      return grouped;
    };

    /** The partitions not written yet, by the broker that leads them now. */
    const pendingByLeader = (grouped: Map<string, Map<number, Message[]>>) => {
      const byLeader = new Map<string, TopicData[]>();
      for (const [topic, partitions] of grouped) {
        const pending = [...partitions.keys()].filter((p) => !written.has(`${topic}:${p}`));
        if (pending.length === 0) continue;
        for (const [nodeId, led] of Object.entries(cluster.findLeaderForPartitions(topic, pending))) {
          const data = byLeader.get(nodeId) ?? [];
          data.push({
            topic,
            partitions: led.map((partition) => ({ partition, messages: partitions.get(partition) ?? [] })),
          });
          byLeader.set(nodeId, data);
        }
      }
      return byLeader;
    };

    const produce = async (nodeId: string, topicData: TopicData[]) => {
      const broker = await cluster.findBroker({ nodeId });
      await eosManager.acquireBrokerLock(broker);
      try {
        if (eosManager.isTransactional()) await eosManager.addPartitionsToTransaction(topicData);
        for (const { topic, partitions } of topicData) {
          for (const entry of partitions) {
            entry.firstSequence = eosManager.getSequence(topic, entry.partition);
            eosManager.updateSequence(topic, entry.partition, entry.messages.length);
          }
        }
        let response: unknown;
        try {
          response = await broker.produce({
            transactionalId: eosManager.isTransactional() ? eosManager.getTransactionalId() : undefined,
            producerId: eosManager.getProducerId(),
            producerEpoch: eosManager.getProducerEpoch(),
            acks,
            timeout,
            compression,
            topicData,
          });
        } catch (error) {
          for (const { topic, partitions } of topicData)
            for (const entry of partitions) eosManager.updateSequence(topic, entry.partition, -entry.messages.length);
          throw error;
        }
        const results = acks !== 0 ? responseSerializer(response) : [];
        for (const { topic, partitions } of topicData) {
          for (const { partition } of partitions) {
            written.set(
              `${topic}:${partition}`,
              results.filter((r) => r.topicName === topic && r.partition === partition),
            );
          }
        }
      } finally {
        await eosManager.releaseBrokerLock(broker);
      }
    };

    return retrier(async (bail, retryCount, retryTime) => {
      await cluster.addMultipleTargetTopics(topicMessages.map(({ topic }) => topic));
      try {
        await cluster.refreshMetadataIfNecessary();
        byPartition ??= group();
        const grouped = byPartition;
        // Every request of this attempt settles before the next attempt: a retry while one is still in flight
        // would send its partitions again under new sequence numbers, and the broker would keep both copies
        // (3-node chaos: 9,574 outputs twice when a fast failure raced a slow broker's answer).
        const attempts = await Promise.allSettled(
          [...pendingByLeader(grouped)].map(([nodeId, topicData]) => produce(nodeId, topicData)),
        );
        const failed = attempts.find((a): a is PromiseRejectedResult => a.status === 'rejected');
        if (failed) throw failed.reason;
        return [...written.values()].flat();
      } catch (e) {
        const error = e as Error & { host: string; port: number; retriable?: boolean };
        if (error.name === 'KafkaJSConnectionClosedError') cluster.removeBroker({ host: error.host, port: error.port });
        if (!cluster.isConnected()) {
          logger.debug(`Cluster has disconnected, reconnecting: ${error.message}`, { retryCount, retryTime });
          await cluster.connect();
          await cluster.refreshMetadata();
          throw error;
        }
        if (
          staleMetadata(error) ||
          error.name === 'KafkaJSMetadataNotLoaded' ||
          error.name === 'KafkaJSConnectionError' ||
          error.name === 'KafkaJSConnectionClosedError' ||
          (error.name === 'KafkaJSProtocolError' && error.retriable)
        ) {
          logger.error(`Failed to send messages: ${error.message}`, { retryCount, retryTime });
          await cluster.refreshMetadata();
          throw error;
        }
        logger.error(`${error.message}`, { retryCount, retryTime });
        if (error.retriable) throw error;
        bail(error);
        return [];
      }
    });
  };
}
