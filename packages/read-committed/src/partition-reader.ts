import type { Kafka } from 'kafkajs';
import { lastHeaderValues } from './headers.js';
import { type Cluster, type ClusterBroker, LazyCluster, READ_COMMITTED } from './kafkajs-cluster.js';
import { filterAbortedMessages } from './load-kafkajs.js';

/** A record as the reader hands it over: its place, key, value and headers. */
export interface PartitionRecord {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: number;
  readonly headers: Readonly<Record<string, Buffer | undefined>>;
}

/** KafkaJS 2.2.4's decoded fetch answer, as far as it is used here (not typed by KafkaJS). */
interface FetchedMessage {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: string;
  readonly headers?: Record<string, Buffer | Buffer[] | undefined>;
  readonly isControlRecord?: boolean;
  readonly batchContext: {
    readonly producerId: string;
    readonly inTransaction: boolean;
    readonly firstOffset: string;
    readonly lastOffsetDelta: number;
  };
}
interface FetchAnswer {
  readonly responses: ReadonlyArray<{
    readonly partitions: ReadonlyArray<{
      readonly highWatermark: string;
      readonly lastStableOffset: string;
      readonly logStartOffset?: string;
      readonly abortedTransactions?: { producerId: string; firstOffset: string }[];
      readonly messages: FetchedMessage[];
    }>;
  }>;
}
interface FetchingBroker extends ClusterBroker {
  fetch(request: Record<string, unknown>): Promise<FetchAnswer>;
}
interface PartitionCluster extends Cluster {
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(options: { nodeId: string }): Promise<FetchingBroker>;
}

/**
 * Reads one partition, read_committed by Kafka's rule, from an offset (or its start) up to its last stable
 * offset when the read begins: what a store's restore from its changelog needs. KafkaJS has no consumer that
 * reads a partition without joining a group, so this fetches through a cluster of KafkaJS's own (connected on
 * first use, until close()).
 */
export class PartitionReader {
  private readonly cluster: LazyCluster<PartitionCluster>;

  constructor(kafka: Kafka) {
    this.cluster = new LazyCluster<PartitionCluster>(kafka);
  }

  /**
   * Hands `onRecords` every committed record of `topic`/`partition` from `from` (null: the log's start) to the
   * partition's last stable offset now, in order, and resolves with the offset after the last one read.
   */
  async read(
    topic: string,
    partition: number,
    from: string | null,
    onRecords: (records: PartitionRecord[]) => void,
  ): Promise<string> {
    const cluster = await this.cluster.get();
    const fetch = await this.fetcher(cluster, topic, partition, 4 * 1024 * 1024);
    let position = from === null ? await this.logStart(cluster, topic, partition) : BigInt(from);
    let end: bigint | undefined;
    for (;;) {
      const answer = (await fetch(position)).responses[0]?.partitions[0];
      if (!answer) throw new Error(`no fetch answer for ${topic} partition ${partition}`);
      end ??= BigInt(answer.lastStableOffset);
      if (position >= end) return position.toString();
      const within = answer.messages.filter((m) => BigInt(m.offset) >= position);
      const kept = filterAbortedMessages({ messages: [...within], abortedTransactions: answer.abortedTransactions })
        .map((m) => m as unknown as FetchedMessage)
        .filter((m) => !m.isControlRecord);
      if (kept.length > 0) onRecords(kept.map(toRecord));
      // A batch ends where its header says: compaction may have removed its last records.
      let next = position;
      for (const m of answer.messages) {
        const batchEnd = BigInt(m.batchContext.firstOffset) + BigInt(m.batchContext.lastOffsetDelta) + 1n;
        if (batchEnd > next) next = batchEnd;
      }
      if (next === position) return position.toString(); // nothing more to read before the end
      position = next;
    }
  }

  /**
   * The partition's first offset, last stable offset and end (high watermark): a fetch answer at its start
   * carries all three. The stable offset is below the end while a transaction is open in the partition.
   */
  async offsetRange(topic: string, partition: number): Promise<{ start: string; stableEnd: string; end: string }> {
    const cluster = await this.cluster.get();
    const fetch = await this.fetcher(cluster, topic, partition, 1); // adds the topic to the cluster's metadata
    const start = await this.logStart(cluster, topic, partition);
    const answer = (await fetch(start)).responses[0]?.partitions[0];
    if (!answer) throw new Error(`no fetch answer for ${topic} partition ${partition}`);
    return { start: start.toString(), stableEnd: answer.lastStableOffset, end: answer.highWatermark };
  }

  /** Read_committed fetches of one partition from its leader, at most `maxBytes` of it per fetch. */
  private async fetcher(cluster: PartitionCluster, topic: string, partition: number, maxBytes: number) {
    await cluster.addTargetTopic(topic);
    const leader = Object.entries(cluster.findLeaderForPartitions(topic, [partition]))[0]?.[0];
    if (leader === undefined) throw new Error(`no leader for ${topic} partition ${partition}`);
    const broker = await cluster.findBroker({ nodeId: leader });
    return (offset: bigint) =>
      broker.fetch({
        replicaId: -1,
        isolationLevel: READ_COMMITTED,
        maxWaitTime: 0,
        minBytes: 1,
        maxBytes: 16 * 1024 * 1024,
        topics: [{ topic, partitions: [{ partition, fetchOffset: offset.toString(), maxBytes }] }],
      });
  }

  close(): Promise<void> {
    return this.cluster.close();
  }

  private async logStart(cluster: PartitionCluster, topic: string, partition: number): Promise<bigint> {
    const [offsets] = await cluster.fetchTopicsOffset([{ topic, fromBeginning: true, partitions: [{ partition }] }]);
    const start = offsets?.partitions.find((p) => p.partition === partition)?.offset;
    return start === undefined ? 0n : BigInt(start);
  }
}

function toRecord(message: FetchedMessage): PartitionRecord {
  return {
    offset: message.offset,
    key: message.key,
    value: message.value,
    timestamp: Number(message.timestamp),
    headers: lastHeaderValues(message.headers),
  };
}
