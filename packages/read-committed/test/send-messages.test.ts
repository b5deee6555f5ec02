import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { createSendMessages } from '../src/kafkajs-send-messages.js';

// KafkaJS's producer send, over a cluster whose partition 0 leader dies mid-send and whose partition moves to the
// broker that has already answered for partition 1. Deterministic, without a broker: the real thing runs in
// chaos on 3 nodes (packages/cli/test/chaos.test.ts), where it lost 164 of 20,000 records.
const require = createRequire(import.meta.url);
/** KafkaJS's own send module, fresh from disk (the loader may have put ours in the module cache). */
function originalSendMessages(): typeof createSendMessages {
  const path = require.resolve('kafkajs/src/producer/sendMessages');
  const cached = require.cache[path];
  delete require.cache[path];
  try {
    return require(path) as typeof createSendMessages;
  } finally {
    if (cached) require.cache[path] = cached;
    else delete require.cache[path];
  }
}
const createRetrier = require('kafkajs/src/retry') as (
  options: object,
) => Parameters<typeof createSendMessages>[0]['retrier'];
const { KafkaJSConnectionError } = require('kafkajs/src/errors') as {
  KafkaJSConnectionError: new (message: string) => Error;
};

interface Message {
  readonly partition: number;
  readonly value: string;
}

/** Brokers 1 and 2; broker 1 leads partition 0 until its first produce fails, then broker 2 leads both. */
function movingLeaderCluster() {
  const received = new Map<number, Message[]>([
    [1, []],
    [2, []],
  ]);
  let broker1Alive = true;
  const broker = (nodeId: number) => ({
    nodeId,
    async produce({
      topicData,
    }: {
      topicData: { topic: string; partitions: { partition: number; messages: Message[] }[] }[];
    }) {
      if (nodeId === 1 && broker1Alive) {
        broker1Alive = false; // killed while answering
        throw new KafkaJSConnectionError('Connection error: ECONNRESET');
      }
      for (const { partitions } of topicData)
        for (const { messages } of partitions) received.get(nodeId)?.push(...messages);
      return {
        topics: topicData.map(({ topic, partitions }) => ({
          topicName: topic,
          partitions: partitions.map(({ partition }) => ({ partition, errorCode: 0, baseOffset: '0' })),
        })),
      };
    },
  });
  const brokers = new Map([
    ['1', broker(1)],
    ['2', broker(2)],
  ]);
  const cluster = {
    refreshMetadataIfNecessary: async () => {},
    refreshMetadata: async () => {},
    addMultipleTargetTopics: async () => {},
    findTopicPartitionMetadata: () => [{ partitionId: 0 }, { partitionId: 1 }],
    findLeaderForPartitions: (_topic: string, partitions: number[]) => {
      const leaders: Record<string, number[]> = {};
      for (const p of partitions) {
        const leader = Number(p) === 0 && broker1Alive ? '1' : '2';
        leaders[leader] = [...(leaders[leader] ?? []), p];
      }
      return leaders;
    },
    findBroker: async ({ nodeId }: { nodeId: string }) => brokers.get(String(nodeId)) as ReturnType<typeof broker>,
    isConnected: () => true,
    connect: async () => {},
    removeBroker: () => {},
  };
  const eosManager = {
    isTransactional: () => false,
    getTransactionalId: () => '',
    getProducerId: () => -1,
    getProducerEpoch: () => 0,
    addPartitionsToTransaction: async () => {},
    getSequence: () => 0,
    updateSequence: () => {},
    acquireBrokerLock: async () => {},
    releaseBrokerLock: async () => {},
  };
  return { received, cluster, eosManager };
}

/**
 * Brokers 1 and 2 each lead one partition for good; broker 1's first answer is a connection error, at once, and
 * broker 2 answers slowly. A retry that does not wait for broker 2 sends its partition again, under the next
 * sequence numbers, and the broker keeps both copies.
 */
function fastFailureSlowAnswer() {
  const world = movingLeaderCluster();
  const broker1 = world.cluster.findBroker({ nodeId: '1' });
  let failed = false;
  return {
    ...world,
    cluster: {
      ...world.cluster,
      findLeaderForPartitions: (_topic: string, partitions: number[]) => {
        const leaders: Record<string, number[]> = {};
        for (const p of partitions) {
          const leader = Number(p) === 0 ? '1' : '2';
          leaders[leader] = [...(leaders[leader] ?? []), p];
        }
        return leaders;
      },
      findBroker: async ({ nodeId }: { nodeId: string }) => {
        const broker = await world.cluster.findBroker({ nodeId });
        if (String(nodeId) === '2') {
          return {
            ...broker,
            produce: async (request: Parameters<typeof broker.produce>[0]) => {
              await new Promise((resolve) => setTimeout(resolve, 30));
              return broker.produce(request);
            },
          };
        }
        return {
          ...(await broker1),
          produce: async (request: Parameters<typeof broker.produce>[0]) => {
            if (!failed) {
              failed = true;
              throw new KafkaJSConnectionError('Connection error: ECONNREFUSED');
            }
            return broker.produce(request);
          },
        };
      },
    },
  };
}

async function sendWith(factory: typeof createSendMessages, world = movingLeaderCluster) {
  const { received, cluster, eosManager } = world();
  const send = factory({
    logger: { debug: () => {}, error: () => {} },
    cluster,
    partitioner: ({ message }) => (message as Message).partition,
    eosManager,
    retrier: createRetrier({ retries: 3, initialRetryTime: 1, maxRetryTime: 5 }),
  } as Parameters<typeof createSendMessages>[0]);
  const messages: Message[] = [
    { partition: 0, value: 'a' },
    { partition: 1, value: 'b' },
    { partition: 0, value: 'c' },
  ];
  await send({ acks: -1, timeout: 1000, compression: 0, topicMessages: [{ topic: 't', messages }] });
  return [...received.values()]
    .flat()
    .map((m) => m.value)
    .sort();
}

describe("KafkaJS's producer send when a partition's leader dies mid-send", () => {
  it('KafkaJS 2.2.4 itself resolves the send without ever writing the moved partition (the bug, kept as evidence)', async () => {
    expect(await sendWith(originalSendMessages())).toEqual(['b']);
  });

  it('the corrected send writes every record, the moved partition to its new leader', async () => {
    expect(await sendWith(createSendMessages)).toEqual(['a', 'b', 'c']);
  });

  it("a retry waits for every answer of the attempt before it: a slow broker's partition is not sent twice", async () => {
    expect(await sendWith(createSendMessages, fastFailureSlowAnswer)).toEqual(['a', 'b', 'c']);
  });
});
