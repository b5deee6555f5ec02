import type { RawRecord } from '@exactly/core';
import type { Batch, Kafka, KafkaMessage } from 'kafkajs';
import type { ConsumerHandlers, ConsumerOptions, ConsumerPort, TopicPartition } from '../../port/client.js';
import { classifyKafkaJsError } from './classify.js';
import { guard } from './guard.js';

/** Heartbeat answers that mean "rejoin the group" (KafkaJS rejoins when eachBatch throws one of them). */
const REJOIN_ERRORS = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']);

export function kafkaJsConsumer(kafka: Kafka, options: ConsumerOptions): ConsumerPort {
  const consumer = kafka.consumer({
    groupId: options.groupId,
    sessionTimeout: options.sessionTimeoutMs,
    heartbeatInterval: options.heartbeatIntervalMs,
    rebalanceTimeout: Math.max(60_000, options.sessionTimeoutMs),
    minBytes: options.minBytes,
    maxWaitTimeInMs: options.maxWaitMs,
    maxBytesPerPartition: options.maxBytesPerPartition,
    maxBytes: options.maxBytes,
    readUncommitted: false, // read_committed: never see another transaction's aborted or open records
    allowAutoTopicCreation: false,
    retry: {
      retries: 10,
      // A broker restart exhausts KafkaJS's retries; rejoin rather than stop, unless nothing can help.
      restartOnFailure: async (error) => classifyKafkaJsError(error).kind !== 'fatal',
    },
  });
  return {
    async start(handlers: ConsumerHandlers) {
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        const assigned: TopicPartition[] = [];
        for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
          for (const partition of partitions) assigned.push({ topic, partition });
        }
        handlers.onAssignment(assigned);
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (!payload.restart) handlers.onCrash(classifyKafkaJsError(payload.error));
      });
      await guard(() => consumer.connect());
      await guard(() => consumer.subscribe({ topic: options.topic, fromBeginning: true }));
      await guard(() =>
        consumer.run({
          autoCommit: false, // offsets are committed only inside transactions
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: options.concurrency,
          eachBatch: async ({ batch, resolveOffset, isRunning, isStale, heartbeat }) => {
            let rebalance: unknown;
            await handlers.onBatch(
              {
                topic: batch.topic,
                partition: batch.partition,
                records: batch.messages.map((message) => toRawRecord(batch, message)),
                nextOffset: (BigInt(batch.lastOffset()) + 1n).toString(),
                highWatermark: batch.highWatermark,
              },
              {
                advance: (offset) => resolveOffset((BigInt(offset) - 1n).toString()),
                seek: (offset) => consumer.seek({ topic: batch.topic, partition: batch.partition, offset }),
                isCurrent: () => isRunning() && !isStale() && rebalance === undefined,
                heartbeat: async () => {
                  try {
                    await heartbeat();
                    return 'ok';
                  } catch (error) {
                    if (!REJOIN_ERRORS.has((error as { type?: string }).type ?? '')) throw classifyKafkaJsError(error);
                    rebalance = error;
                    return 'rebalancing';
                  }
                },
              },
            );
            // Hand the rebalance back to KafkaJS so it rejoins now rather than at its next heartbeat.
            if (rebalance !== undefined) throw rebalance;
          },
        }),
      );
    },
    async stop() {
      await consumer.disconnect().catch(() => {});
    },
  };
}

function toRawRecord(batch: Batch, message: KafkaMessage): RawRecord {
  const headers: Record<string, Buffer | string | undefined> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    headers[name] = Array.isArray(value) ? value[value.length - 1] : value;
  }
  return {
    topic: batch.topic,
    partition: batch.partition,
    offset: message.offset,
    timestamp: Number(message.timestamp),
    key: message.key ?? null,
    value: message.value,
    headers,
  };
}
