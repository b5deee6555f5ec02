import { createRequire } from 'node:module';
import type { Kafka } from 'kafkajs';
import { type KafkaJsRequest, LazyCluster, sendRequest } from './kafkajs-cluster.js';

const require = createRequire(import.meta.url);

/** KafkaJS's protocol encoder and decoder (2.2.4), for the one request it cannot make. */
interface Encoder {
  writeInt32(value: number): Encoder;
  writeBoolean(value: boolean): Encoder;
  writeUVarIntString(value: string): Encoder;
  writeUVarIntArray(array: Encoder[] | null): Encoder;
  writeUVarIntBytes(value?: Buffer): Encoder;
}
interface Decoder {
  readInt16(): number;
  readInt32(): number;
  readInt64(): { toString(): string };
  readUVarIntString(): string;
  readUVarIntArray<T>(reader: (decoder: Decoder) => T): T[];
  readTaggedFields(): void;
}
const EncoderClass = require('kafkajs/src/protocol/encoder') as new () => Encoder;
const DecoderClass = require('kafkajs/src/protocol/decoder') as new (data: Buffer) => Decoder;
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as {
  createErrorFromCode(code: number): Error;
};

const OFFSET_FETCH = 9;

interface OffsetFetchAnswer {
  readonly errorCode: number;
  readonly topics: { name: string; partitions: { partition: number; offset: string; errorCode: number }[] }[];
}

/**
 * OffsetFetch v7 with require_stable (KIP-447), which KafkaJS 2.2.4 cannot send (its newest is v4, without it).
 * A group's committed offsets, waiting out transactional offset commits that are still pending: the broker
 * answers UNSTABLE_OFFSET_COMMIT (retriable) for a partition whose offset a transaction is about to commit.
 * Without it a reader gets the offset before that transaction, and if the transaction then commits, its
 * records are processed twice. A transactional.id's own InitProducerId settles its own pending transaction; a
 * pending transaction of another id (another client mode, during a rolling change) only require_stable waits for.
 */
function offsetFetchV7(
  groupId: string,
  topic: string,
  partitions: readonly number[],
): KafkaJsRequest<OffsetFetchAnswer> {
  return {
    request: {
      apiKey: OFFSET_FETCH,
      apiVersion: 7,
      apiName: 'OffsetFetch',
      // A flexible version: KafkaJS writes request header v1, so the body starts with the header's (empty)
      // tagged fields, as KafkaJS's own flexible requests do.
      encode: async () =>
        new EncoderClass()
          .writeUVarIntBytes()
          .writeUVarIntString(groupId)
          // Named partitions: asked for "all", a broker leaves out one whose first commit is still pending.
          .writeUVarIntArray([
            new EncoderClass()
              .writeUVarIntString(topic)
              .writeUVarIntArray(partitions.map((p) => new EncoderClass().writeInt32(p)))
              .writeUVarIntBytes(),
          ])
          .writeBoolean(true) // require_stable
          .writeUVarIntBytes(),
    },
    response: {
      decode: async (data: Buffer) => {
        const decoder = new DecoderClass(data);
        decoder.readTaggedFields(); // response header v1
        decoder.readInt32(); // throttle_time_ms
        const topics = decoder.readUVarIntArray((topic) => {
          const name = topic.readUVarIntString();
          const partitions = topic.readUVarIntArray((p) => {
            const partition = p.readInt32();
            const offset = p.readInt64().toString();
            p.readInt32(); // committed_leader_epoch
            p.readUVarIntString(); // metadata
            const errorCode = p.readInt16();
            p.readTaggedFields();
            return { partition, offset, errorCode };
          });
          topic.readTaggedFields();
          return { name, partitions };
        });
        const errorCode = decoder.readInt16();
        return { errorCode, topics };
      },
      parse: async (answer: OffsetFetchAnswer) => {
        if (answer.errorCode !== 0) throw createErrorFromCode(answer.errorCode);
        for (const topic of answer.topics)
          for (const partition of topic.partitions)
            if (partition.errorCode !== 0) throw createErrorFromCode(partition.errorCode);
        return answer;
      },
    },
  };
}

/**
 * Reads a group's committed offsets with require_stable, through a KafkaJS cluster of its own (connected on
 * first use, until close()). Rejects with KafkaJS's UNSTABLE_OFFSET_COMMIT error (retriable) while a
 * transaction holds an offset of the group.
 */
export class StableOffsets {
  private readonly cluster: LazyCluster;

  constructor(kafka: Kafka) {
    this.cluster = new LazyCluster(kafka);
  }

  /** The committed offset of each of `partitions` of `topic` (null: none). */
  async of(groupId: string, topic: string, partitions: readonly number[]): Promise<Map<number, string | null>> {
    const cluster = await this.cluster.get();
    const coordinator = await cluster.findGroupCoordinator({ groupId });
    const answer = await sendRequest(coordinator, offsetFetchV7(groupId, topic, partitions));
    const offsets = new Map<number, string | null>();
    for (const { partition, offset } of answer.topics.find((t) => t.name === topic)?.partitions ?? [])
      offsets.set(partition, offset === '-1' ? null : offset);
    return offsets;
  }

  close(): Promise<void> {
    return this.cluster.close();
  }
}
