import { setTimeout as delay } from 'node:timers/promises';
import type { RawRecord } from '@exactly/core';
import { lastHeaderValues } from '@exactly/read-committed';
import type { Batch, Kafka, KafkaMessage } from 'kafkajs';
import { backoffMs } from '../../backoff.js';
import type { ConsumerHandlers, ConsumerOptions, ConsumerPort, TopicPartition } from '../../port/client.js';
import { ClientError } from '../../port/errors.js';
import { classifyKafkaJsError } from './classify.js';
import { guard } from './guard.js';

export function kafkaJsConsumer(kafka: Kafka, options: ConsumerOptions): ConsumerPort {
  let stopping = false;
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
      // Never once stop() has begun: closing the connections under a fetch looks like a crash to KafkaJS.
      restartOnFailure: async (error) => !stopping && classifyKafkaJsError(error).kind !== 'fatal',
    },
  });
  let listening = false;
  let runConfig: Parameters<typeof consumer.run>[0];
  /**
   * KafkaJS restarts a crashed consumer only for errors it deems retriable; a broker restart can also end in
   * one it does not (e.g. KafkaJSGroupCoordinatorNotFound). Anything not fatal: reconnect and rejoin here.
   */
  const restart = async (handlers: ConsumerHandlers) => {
    for (let attempt = 1; !stopping; attempt++) {
      await delay(backoffMs(attempt));
      if (stopping) return;
      try {
        await consumer.connect();
        await consumer.run(runConfig);
        return;
      } catch (retryError) {
        const classified = classifyKafkaJsError(retryError);
        if (classified.kind === 'fatal') return handlers.onCrash(classified);
      }
    }
  };
  return {
    async start(handlers: ConsumerHandlers) {
      // start() may be called again after a failed start-up: listen once.
      if (!listening) {
        listening = true;
        consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
          const assigned: TopicPartition[] = [];
          for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
            for (const partition of partitions) assigned.push({ topic, partition });
          }
          handlers.onAssignment(assigned);
        });
        consumer.on(consumer.events.CRASH, ({ payload }) => {
          if (payload.restart || stopping) return;
          const classified = classifyKafkaJsError(payload.error);
          if (classified.kind === 'fatal') {
            const where = `reading ${options.topic}: ${classified.message}`;
            handlers.onCrash(new ClientError('fatal', classified.code, where, { cause: classified }));
          } else void restart(handlers);
        });
      }
      await guard(() => consumer.connect());
      await guard(() => consumer.subscribe({ topic: options.topic, fromBeginning: true }));
      runConfig = {
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
              // KafkaJS keeps the fetch's start on the batch, untyped (a string).
              fetchedFrom: (batch as unknown as { fetchedOffset?: string }).fetchedOffset,
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
                  // The group moved on: KafkaJS rejoins when eachBatch throws its own error, so keep that.
                  if (classifyKafkaJsError(error).kind !== 'membership') throw classifyKafkaJsError(error);
                  rebalance = error;
                  return 'rebalancing';
                }
              },
            },
          );
          // Hand the rebalance back to KafkaJS so it rejoins now rather than at its next heartbeat.
          if (rebalance !== undefined) throw rebalance;
        },
      };
      await guard(() => consumer.run(runConfig));
    },
    async stop() {
      stopping = true;
      await consumer.disconnect().catch(() => {});
    },
  };
}

function toRawRecord(batch: Batch, message: KafkaMessage): RawRecord {
  return {
    topic: batch.topic,
    partition: batch.partition,
    offset: message.offset,
    timestamp: Number(message.timestamp),
    key: message.key ?? null,
    value: message.value,
    headers: lastHeaderValues(message.headers),
  };
}
