import type { RawRecord } from '@exactly/core';
import { AbortedTransactions, markerOf } from '@exactly/read-committed/aborted-transactions';
import {
  type CallbackWithPromise,
  type Connection,
  Consumer,
  FetchIsolationLevels,
  type fetchV17,
  IS_CONTROL,
  IS_TRANSACTIONAL,
  kGetApi,
  ListOffsetTimestamps,
} from '@platformatic/kafka';
import { guard } from './classify.js';
import { baseOptions, type PlatformaticConnection } from './connection.js';

type FetchRequestTopic = fetchV17.FetchRequestTopic;
type FetchResponse = fetchV17.FetchResponse;

/** A fetch outside any fetch session (KIP-227's final epoch): every partition asked for is answered. */
const NO_SESSION = { id: 0, epoch: -1 };

type FetchApi = (
  connection: Connection,
  maxWaitMs: number,
  minBytes: number,
  maxBytes: number,
  isolationLevel: number,
  sessionId: number,
  sessionEpoch: number,
  topics: FetchRequestTopic[],
  forgottenTopicsData: never[],
  rackId: string,
  callback: CallbackWithPromise<FetchResponse>,
) => void;

/**
 * Reads one partition, read_committed by Kafka's rule, from an offset (or its start) to its last stable offset
 * at the first fetch: a store's restore from its changelog. Plain fetches from the partition's leader, without
 * joining a group and without a fetch session (the client's own fetch() keeps one per broker, and an
 * incremental answer leaves out partitions it deems unchanged); the client's own aborted-transaction filter is
 * not trusted (see read-committed.ts).
 */
export class PartitionReader {
  private consumer: Consumer | undefined;

  constructor(private readonly connection: PlatformaticConnection) {}

  async read(
    topic: string,
    partition: number,
    from: string | null,
    onRecords: (records: readonly RawRecord[]) => void,
  ): Promise<string> {
    const consumer = this.client();
    const metadata = await guard(() => consumer.metadata({ topics: [topic], forceUpdate: true }));
    const found = metadata.topics.get(topic);
    const leader = found?.partitions[partition]?.leader;
    const broker = leader === undefined ? undefined : metadata.brokers.get(leader);
    if (!found || !broker) throw new Error(`no leader for ${topic} partition ${partition}`);
    const connection = await guard(() => consumer.connections.get(broker));
    const api = await new Promise<FetchApi>((resolve, reject) =>
      (consumer as unknown as { [kGetApi]: (name: string, cb: (e: Error | null, api: FetchApi) => void) => void })[
        kGetApi
      ]('Fetch', (error, found) => (error ? reject(error) : resolve(found))),
    );
    let position = from === null ? await this.logStart(consumer, topic, partition) : BigInt(from);
    let end: bigint | undefined;
    for (;;) {
      const topics: FetchRequestTopic[] = [
        {
          topicId: found.id,
          partitions: [
            {
              partition,
              fetchOffset: position,
              partitionMaxBytes: 4 * 1024 * 1024,
              currentLeaderEpoch: -1,
              lastFetchedEpoch: -1,
            },
          ],
        },
      ];
      const answer = await guard(
        () =>
          new Promise<FetchResponse>((resolve, reject) =>
            api(
              connection,
              0,
              1,
              16 * 1024 * 1024,
              FetchIsolationLevels.READ_COMMITTED,
              NO_SESSION.id,
              NO_SESSION.epoch,
              topics,
              [],
              '',
              ((error: Error | null, response: FetchResponse) =>
                error ? reject(error) : resolve(response)) as CallbackWithPromise<FetchResponse>,
            ),
          ),
      );
      const data = answer.responses[0]?.partitions[0];
      if (!data) throw new Error(`no fetch answer for ${topic} partition ${partition}`);
      end ??= data.lastStableOffset;
      if (position >= end) return position.toString();
      const aborted = new AbortedTransactions(data.abortedTransactions ?? []);
      const records: RawRecord[] = [];
      let next = position;
      for (const batch of data.records ?? []) {
        const batchEnd = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
        if (batchEnd > next) next = batchEnd; // compaction may have removed a batch's last records
        const control = (batch.attributes & IS_CONTROL) !== 0;
        const dropped = aborted.drops({
          lastOffset: batchEnd - 1n,
          producerId: batch.producerId,
          transactional: (batch.attributes & IS_TRANSACTIONAL) !== 0,
          marker: control ? markerOf(batch.records[0]?.key) : undefined,
        });
        if (control || dropped) continue;
        for (const record of batch.records) {
          const offset = batch.firstOffset + BigInt(record.offsetDelta);
          if (offset < position) continue;
          const headers: Record<string, Buffer> = {};
          for (const [name, value] of record.headers) if (name && value) headers[name.toString()] = value;
          records.push({
            topic,
            partition,
            offset: offset.toString(),
            timestamp: Number(batch.firstTimestamp + record.timestampDelta),
            key: record.key,
            value: record.value,
            headers,
          });
        }
      }
      if (records.length > 0) onRecords(records);
      if (next === position) return position.toString();
      position = next;
    }
  }

  /**
   * The partition's first offset, last stable offset and end (high watermark), by ListOffsets read_committed and
   * read_uncommitted. The stable offset is below the end while a transaction is open in the partition.
   */
  async offsetRange(topic: string, partition: number): Promise<{ start: string; stableEnd: string; end: string }> {
    const consumer = this.client();
    const latest = async (isolationLevel: number) => {
      const offsets = await guard(() =>
        consumer.listOffsets({
          topics: [topic],
          partitions: { [topic]: [partition] },
          timestamp: ListOffsetTimestamps.LATEST,
          isolationLevel,
        }),
      );
      const offset = offsets.get(topic)?.[partition];
      if (offset === undefined) throw new Error(`no end offset for ${topic} partition ${partition}`);
      return offset.toString();
    };
    const stableEnd = await latest(FetchIsolationLevels.READ_COMMITTED);
    const end = await latest(FetchIsolationLevels.READ_UNCOMMITTED);
    return { start: (await this.logStart(consumer, topic, partition)).toString(), stableEnd, end };
  }

  async close(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.close(true).catch(() => {});
  }

  private async logStart(consumer: Consumer, topic: string, partition: number): Promise<bigint> {
    const offsets = await guard(() =>
      consumer.listOffsets({
        topics: [topic],
        partitions: { [topic]: [partition] },
        timestamp: ListOffsetTimestamps.EARLIEST,
      }),
    );
    return offsets.get(topic)?.[partition] ?? 0n;
  }

  private client(): Consumer {
    // A consumer that never joins its group: only its fetch and metadata calls are used.
    this.consumer ??= new Consumer({
      ...baseOptions(this.connection, 'restore', false),
      groupId: `${this.connection.clientId}-restore`,
    });
    return this.consumer;
  }
}
