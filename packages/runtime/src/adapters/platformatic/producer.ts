import { setTimeout as delay } from 'node:timers/promises';
import type { EncodedRecord } from '@exactly/core';
import {
  type Broker,
  FindCoordinatorKeyTypes,
  findCoordinatorV4,
  type MessageToProduce,
  ProduceAcks,
  Producer,
  txnOffsetCommitV3,
} from '@platformatic/kafka';
import { backoffMs, isBusyCoordinator, retryWhileBusy } from '../../backoff.js';
import type {
  GroupMembership,
  PartitionOffset,
  ProducerOptions,
  TransactionalProducerPort,
  TransactionPort,
} from '../../port/client.js';
import { ClientError } from '../../port/errors.js';
import { offsetsByTopic } from '../offsets-by-topic.js';
import { addSentEnds, chunksBySize } from '../request-size.js';
import { classifyPlatformaticError, guard } from './classify.js';
import { capClientApiVersions } from './client-api-versions.js';
import { baseOptions, type PlatformaticConnection, partitionOf } from './connection.js';
import { writeProduceRequestsInOnePass } from './produce-request.js';

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
    ...(options.compression === 'none' ? {} : { compression: options.compression }),
  });
  capClientApiVersions(producer);
  writeProduceRequestsInOnePass(producer);
  // InitProducerId with no producer id and epoch (-1): "a new producer for this transactional.id", which bumps
  // the epoch and ends a previous incarnation's open transaction. The client's default (0, 0) asks to re-init
  // producer 0, which the broker refuses with PRODUCER_FENCED once the id has been used before.
  const fresh = { producerId: -1n, producerEpoch: -1 };
  const coordinators = new GroupCoordinators(producer);
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
      return platformaticTransaction(producer, transaction, options, coordinators);
    },
    identity: () =>
      producer.producerId === undefined || producer.producerEpoch === undefined
        ? undefined
        : { producerId: producer.producerId.toString(), epoch: producer.producerEpoch },
    close: () => producer.close(true).catch(() => {}),
  };
}

type Transaction = Awaited<ReturnType<Producer['beginTransaction']>>;

function platformaticTransaction(
  producer: Producer,
  transaction: Transaction,
  options: ProducerOptions,
  coordinators: GroupCoordinators,
): TransactionPort {
  const groupsAdded = new Set<string>();
  // Past the client's own few retries, a busy coordinator is waited for, not aborted for: for half the timeout
  // at most, in all of this transaction's calls together.
  const busyUntil = performance.now() + options.transactionTimeoutMs / 2;
  return {
    async send(records) {
      const ends = new Map<string, bigint>();
      // One produce request per chunk keeps each under the broker's message.max.bytes.
      for (const chunk of chunksBySize(records, options.maxRequestBytes)) {
        // Sent again whole only if it failed before producing (at AddPartitionsToTxn): the client marks a
        // produce's failure with what it produced.
        const result = await retryWhileBusy(
          () => guard(() => transaction.send({ messages: chunk.map(toMessage) })),
          busyUntil,
          producedAny,
        );
        const bases = (result.offsets ?? []).map((o) => ({ ...o, baseOffset: BigInt(o.offset) }));
        addSentEnds(ends, chunk, bases);
      }
      return ends;
    },
    async sendOffsets(groupId, offsets) {
      if (!groupsAdded.has(groupId)) {
        // AddOffsetsToTxn; addConsumer reads nothing of the consumer but its group id.
        await retryWhileBusy(
          () => guard(() => transaction.addConsumer({ groupId } as Parameters<Transaction['addConsumer']>[0])),
          busyUntil,
        );
        groupsAdded.add(groupId);
      }
      for (const [membership, partitions] of byMembership(offsets)) {
        await commitOffsets(producer, coordinators, options, busyUntil, groupId, membership, partitions);
      }
    },
    commit: () => guard(() => transaction.commit()),
    abort: () => guard(() => transaction.abort()),
  };
}

/**
 * Where each group's offset commits go. Looked up with FindCoordinator, and again after any refusal or lost
 * connection: a group's coordinator moves when its broker dies, without a rebalance, and a member that kept
 * the one from its join met NOT_COORDINATOR on every commit.
 */
class GroupCoordinators {
  private readonly known = new Map<string, Broker>();

  constructor(private readonly producer: Producer) {}

  async of(groupId: string): Promise<Broker> {
    const known = this.known.get(groupId);
    if (known) return known;
    const metadata = this.producer.currentMetadata ?? (await this.producer.metadata({ topics: [] }));
    const connection = await this.producer.connections.getFirstAvailable([...metadata.brokers.values()]);
    const { coordinators } = await findCoordinatorV4.api.async(connection, FindCoordinatorKeyTypes.GROUP, [groupId]);
    const found = coordinators.find((c) => c.key === groupId);
    if (found?.errorCode !== 0 || found.nodeId < 0)
      throw new ClientError('retriable', 'COORDINATOR_NOT_AVAILABLE', `no coordinator for group '${groupId}' yet`);
    const broker = { host: found.host, port: found.port };
    this.known.set(groupId, broker);
    return broker;
  }

  forget(groupId: string): void {
    this.known.delete(groupId);
  }
}

/**
 * One TxnOffsetCommit (v3, KIP-447: with the generation and member id) for all of a poll's partitions. The
 * client's addOffset() sends one request per partition, and merges concurrent calls into the first one's; at
 * 96 partitions that was 96 round trips per transaction.
 */
async function commitOffsets(
  producer: Producer,
  coordinators: GroupCoordinators,
  options: ProducerOptions,
  /** The transaction's time for retries (a performance.now() time): past it, better aborted and redone. */
  retryUntil: number,
  groupId: string,
  membership: GroupMembership,
  offsets: readonly PartitionOffset[],
): Promise<void> {
  const request = offsetsByTopic(offsets, ({ partition, offset }) => ({
    partitionIndex: partition,
    committedOffset: BigInt(offset),
    committedLeaderEpoch: -1,
  })).map(({ topic, partitions }) => ({ name: topic, partitions }));
  for (let attempt = 0; ; attempt++) {
    try {
      const connection = await producer.connections.get(await coordinators.of(groupId));
      const { producerId, producerEpoch } = producer;
      if (producerId === undefined || producerEpoch === undefined)
        throw new ClientError('abortable', 'NO_PRODUCER_ID', 'the producer has no producer id');
      await txnOffsetCommitV3.api.async(
        connection,
        options.transactionalId,
        groupId,
        producerId,
        producerEpoch,
        membership.generationId,
        membership.memberId,
        null,
        request,
      );
      return;
    } catch (error) {
      const classified = classifyPlatformaticError(error);
      if (classified.kind !== 'retriable' || performance.now() >= retryUntil) throw classified;
      const busy = isBusyCoordinator(classified);
      if (!busy) coordinators.forget(groupId); // moved, loading elsewhere, or its broker is away: ask again
      await delay(backoffMs(attempt, busy));
    }
  }
}

function byMembership(offsets: readonly PartitionOffset[]): Map<GroupMembership, PartitionOffset[]> {
  const groups = new Map<string, { membership: GroupMembership; offsets: PartitionOffset[] }>();
  for (const offset of offsets) {
    if (!offset.membership)
      throw new ClientError('fatal', 'NO_MEMBERSHIP', 'a KIP-447 offset commit needs the group membership');
    const key = `${offset.membership.memberId}/${offset.membership.generationId}`;
    const group = groups.get(key) ?? { membership: offset.membership, offsets: [] };
    group.offsets.push(offset);
    groups.set(key, group);
  }
  return new Map([...groups.values()].map((g) => [g.membership, g.offsets]));
}

/** Whether a failed send got as far as producing: the client's produce failures carry what was produced. */
function producedAny(error: ClientError): boolean {
  return (error.cause as { produced?: unknown } | undefined)?.produced !== undefined;
}

/** One object per record, of one shape (no conditional spreads), and no header map for a record without any. */
function toMessage(record: EncodedRecord): MessageToProduce {
  let headers: Map<Buffer, Buffer> | undefined;
  for (const name in record.headers) {
    const value = record.headers[name];
    if (value === undefined) continue;
    headers ??= new Map();
    headers.set(Buffer.from(name), Buffer.from(value));
  }
  return {
    topic: record.topic,
    key: record.key ?? undefined,
    value: record.value ?? undefined,
    headers,
    partition: record.partition,
  };
}
