import type { Kafka } from 'kafkajs';

/** A broker of KafkaJS's cluster, as far as it is used here (KafkaJS 2.2.4, not typed by it). */
export interface ClusterBroker {
  readonly nodeId?: number;
}

/** KafkaJS's cluster, as far as it is used here (KafkaJS 2.2.4, not typed by it). */
export interface Cluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number }[];
  fetchTopicsOffset(
    topics: { topic: string; fromBeginning: boolean; partitions: { partition: number }[] }[],
  ): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
  findGroupCoordinator(options: { groupId: string; coordinatorType?: number }): Promise<ClusterBroker>;
}

export const READ_UNCOMMITTED = 0;
export const READ_COMMITTED = 1;

/**
 * A cluster of KafkaJS's own (its private factory): for requests its admin does not make the way Kafka's
 * transactions need them. Not connected yet.
 */
export function createCluster(kafka: Kafka, isolationLevel: number): Cluster {
  const factorySymbol = Object.getOwnPropertySymbols(kafka).find(
    (symbol) => symbol.description === 'private:Kafka:createCluster',
  );
  const factory = factorySymbol && (kafka as unknown as Record<symbol, unknown>)[factorySymbol];
  if (typeof factory !== 'function') throw new Error('this KafkaJS has no cluster factory (Exactly expects 2.2.4)');
  return (factory as (options: { isolationLevel: number }) => Cluster)({ isolationLevel });
}

/** A request as KafkaJS's brokers send them: its encoder, and its answer's decoder and check. */
export interface KafkaJsRequest<T> {
  readonly request: {
    readonly apiKey: number;
    readonly apiVersion: number;
    readonly apiName: string;
    encode(): Promise<unknown>;
  };
  readonly response: { decode(data: Buffer): Promise<T>; parse(decoded: T): Promise<T> };
}

/** Sends a request KafkaJS has no builder for through one of its brokers (its private send). */
export async function sendRequest<T>(broker: ClusterBroker, request: KafkaJsRequest<T>): Promise<T> {
  const prototype = Object.getPrototypeOf(broker) as object;
  const sendSymbol = Object.getOwnPropertySymbols(prototype).find(
    (symbol) => symbol.description === 'private:Broker:sendRequest',
  );
  const send = sendSymbol && (broker as unknown as Record<symbol, unknown>)[sendSymbol];
  if (typeof send !== 'function')
    throw new Error("this KafkaJS's broker has no request sender (Exactly expects 2.2.4)");
  return (send as (request: KafkaJsRequest<T>) => Promise<T>).call(broker, request);
}

/**
 * Finds `transactionalId`'s transaction coordinator, as a producer's first step does: rejects with the broker's
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED when this user may not use that id (see kafkajs-coordinator.ts).
 */
export async function findTransactionCoordinator(kafka: Kafka, transactionalId: string): Promise<void> {
  const cluster = createCluster(kafka, READ_COMMITTED);
  await cluster.connect();
  try {
    await cluster.findGroupCoordinator({ groupId: transactionalId, coordinatorType: TRANSACTION_COORDINATOR });
  } finally {
    await cluster.disconnect().catch(() => {});
  }
}

/** FindCoordinator's key type for a transactional id (0 is a group). */
const TRANSACTION_COORDINATOR = 1;

/**
 * A KafkaJS cluster of its own, connected on first use and kept until close(); a failed connect is forgotten, so
 * the next use tries again. What the readers here (StableOffsets, PartitionReader) share.
 */
export class LazyCluster<C extends Cluster = Cluster> {
  private cluster: C | undefined;
  private connecting: Promise<C> | undefined;

  constructor(private readonly kafka: Kafka) {}

  get(): Promise<C> {
    this.connecting ??= (async () => {
      const cluster = createCluster(this.kafka, READ_COMMITTED) as C;
      await cluster.connect();
      this.cluster = cluster;
      return cluster;
    })().catch((error: unknown) => {
      this.connecting = undefined;
      throw error;
    });
    return this.connecting;
  }

  async close(): Promise<void> {
    const cluster = this.cluster;
    this.cluster = undefined;
    this.connecting = undefined;
    if (cluster) await cluster.disconnect().catch(() => {});
  }
}
