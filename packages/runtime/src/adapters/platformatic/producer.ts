import type { EncodedRecord } from '@exactly/core';
import { type Message, type MessageToProduce, ProduceAcks, Producer } from '@platformatic/kafka';
import type { ProducerOptions, TransactionalProducerPort, TransactionPort } from '../../port/client.js';
import { ClientError } from '../../port/errors.js';
import { chunksBySize } from '../request-size.js';
import { guard } from './classify.js';
import { baseOptions, type PlatformaticConnection, partitionOf } from './connection.js';

export function platformaticProducer(
  connection: PlatformaticConnection,
  options: ProducerOptions,
): TransactionalProducerPort {
  const producer = new Producer({
    ...baseOptions(connection, 'producer'),
    transactionalId: options.transactionalId,
    idempotent: true,
    acks: ProduceAcks.ALL,
    // The client sends `timeout` as InitProducerId's transaction timeout (and as the produce timeout).
    timeout: options.transactionTimeoutMs,
    partitioner: partitionOf,
  });
  // InitProducerId with no producer id and epoch (-1): "a new producer for this transactional.id", which bumps
  // the epoch and ends a previous incarnation's open transaction. The client's default (0, 0) asks to re-init
  // producer 0, which the broker refuses with PRODUCER_FENCED once the id has been used before.
  const fresh = { producerId: -1n, producerEpoch: -1 };
  return {
    /**
     * InitProducerId happens at the first beginTransaction(); the engine needs it now (it ends a previous
     * incarnation's open transaction before offsets are read), so begin one and drop it locally: nothing was
     * added to it, so there is nothing to end on the broker.
     */
    async init() {
      const transaction = await guard(() => producer.beginTransaction(fresh));
      await guard(() => transaction.cancel());
    },
    async begin() {
      const transaction = await guard(() => producer.beginTransaction(fresh));
      return platformaticTransaction(transaction, options.maxRequestBytes);
    },
    close: () => producer.close(true).catch(() => {}),
  };
}

type Transaction = Awaited<ReturnType<Producer['beginTransaction']>>;

function platformaticTransaction(transaction: Transaction, maxRequestBytes: number): TransactionPort {
  const groupsAdded = new Set<string>();
  return {
    async send(records) {
      // One produce request per chunk keeps each under the broker's message.max.bytes.
      for (const chunk of chunksBySize(records, maxRequestBytes)) {
        await guard(() => transaction.send({ messages: chunk.map(toMessage) }));
      }
    },
    async sendOffsets(groupId, offsets) {
      if (!groupsAdded.has(groupId)) {
        // addConsumer only reads the group id (AddOffsetsToTxn).
        await guard(() => transaction.addConsumer({ groupId } as Parameters<Transaction['addConsumer']>[0]));
        groupsAdded.add(groupId);
      }
      // One TxnOffsetCommit per partition, in turn: the client merges concurrent calls into one, dropping all but
      // the first partition's offset.
      for (const offset of offsets) {
        if (!offset.membership)
          throw new ClientError('fatal', 'NO_MEMBERSHIP', 'a KIP-447 offset commit needs the group membership');
        const { memberId, generationId, coordinatorId } = offset.membership;
        // addOffset commits the message's offset + 1 with the generation the message was fetched under.
        const message = {
          topic: offset.topic,
          partition: offset.partition,
          offset: BigInt(offset.offset) - 1n,
          metadata: { consumer: { groupId, memberId, generationId, coordinatorId } },
        } as unknown as Message;
        await guard(() => transaction.addOffset(message));
      }
    },
    commit: () => guard(() => transaction.commit()),
    abort: () => guard(() => transaction.abort()),
  };
}

function toMessage(record: EncodedRecord): MessageToProduce {
  const headers = new Map<Buffer, Buffer>();
  for (const [name, value] of Object.entries(record.headers)) headers.set(Buffer.from(name), Buffer.from(value));
  return {
    topic: record.topic,
    ...(record.key === null ? {} : { key: record.key }),
    ...(record.value === null ? {} : { value: record.value }),
    headers,
    ...(record.partition === undefined ? {} : { partition: record.partition }),
  };
}
