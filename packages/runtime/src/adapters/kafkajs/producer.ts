import type { EncodedRecord } from '@exactly/core';
import { kafkajs } from '@exactly/read-committed';
import type { Kafka, Message, Producer, TopicMessages, Transaction } from 'kafkajs';
import { BACKOFF, retryWhileBusy } from '../../backoff.js';
import type { Compression } from '../../options.js';
import type { ProducerOptions, TransactionalProducerPort, TransactionPort } from '../../port/client.js';
import { offsetsByTopic } from '../offsets-by-topic.js';
import { addSentEnds, chunksBySize } from '../request-size.js';
import { guard } from './guard.js';

export function kafkaJsProducer(kafka: Kafka, options: ProducerOptions): TransactionalProducerPort {
  const producer: Producer = kafka.producer({
    transactionalId: options.transactionalId,
    transactionTimeout: options.transactionTimeoutMs,
    idempotent: true,
    maxInFlightRequests: 1,
    // The Java client's murmur2 partitioner: a key lands on the same partition whichever client wrote it.
    createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
    // The next transaction starts right after a commit, while the broker still writes its markers, and meets
    // CONCURRENT_TRANSACTIONS. KafkaJS retries that inside send(); a short first back-off (the runtime's
    // policy for that case) keeps it from costing a tenth of a second per transaction.
    retry: { initialRetryTime: BACKOFF.BUSY_MS, maxRetryTime: BACKOFF.MAX_MS, retries: 10 },
  });
  return {
    /**
     * The fencing step. KafkaJS's connect() initialises only its idempotent producer id; the transactional
     * InitProducerId (which bumps the epoch and completes or aborts the previous owner's open transaction) waits
     * for the first transaction(). The engine reads the committed offset right after init(), so the fencing
     * must happen here: begin a transaction, which sends InitProducerId, and abort it at once. With nothing
     * added to it, the abort stays local (no EndTxn is sent).
     */
    async init() {
      await guard(() => producer.connect());
      const fencing = await guard(() => producer.transaction());
      await guard(() => fencing.abort());
    },
    async begin() {
      const transaction = await guard(() => producer.transaction());
      return kafkaJsTransaction(transaction, options);
    },
    identity: () => undefined, // KafkaJS keeps them to itself
    close: () => producer.disconnect().catch(() => {}),
  };
}

function kafkaJsTransaction(transaction: Transaction, options: ProducerOptions): TransactionPort {
  const compression = KAFKAJS_CODECS[options.compression];
  const busyUntil = performance.now() + options.transactionTimeoutMs / 2;
  return {
    async send(records) {
      const ends = new Map<string, bigint>();
      // KafkaJS puts one call's records for a partition into one record batch; the broker refuses batches
      // over message.max.bytes (1 MB by default), so large outputs go out in several requests.
      for (const chunk of chunksBySize(records, options.maxRequestBytes)) {
        const written = await guard(() => transaction.sendBatch({ topicMessages: byTopic(chunk), compression }));
        const bases = written.map((w) => ({
          topic: w.topicName,
          partition: w.partition,
          baseOffset: BigInt(w.baseOffset ?? '-1'),
        }));
        addSentEnds(ends, chunk, bases);
      }
      return ends;
    },
    // KafkaJS does not retry AddOffsetsToTxn on CONCURRENT_TRANSACTIONS (a transaction with no outputs meets it
    // first); the call is idempotent, so it is retried here.
    sendOffsets: (groupId, offsets) =>
      retryWhileBusy(
        () =>
          guard(() =>
            transaction.sendOffsets({
              consumerGroupId: groupId,
              topics: offsetsByTopic(offsets, ({ partition, offset }) => ({ partition, offset })),
            }),
          ),
        busyUntil,
      ),
    commit: () => guard(() => transaction.commit()),
    abort: () => guard(() => transaction.abort()),
  };
}

function byTopic(records: readonly EncodedRecord[]): TopicMessages[] {
  const topics = new Map<string, Message[]>();
  for (const record of records) {
    let messages = topics.get(record.topic);
    if (!messages) {
      messages = [];
      topics.set(record.topic, messages);
    }
    messages.push({
      key: record.key,
      value: record.value,
      headers: record.headers as Message['headers'],
      ...(record.partition === undefined ? {} : { partition: record.partition }),
    });
  }
  return [...topics].map(([topic, messages]) => ({ topic, messages }));
}

const { CompressionTypes } = kafkajs;

/** KafkaJS's codec numbers (snappy, lz4 and zstd are the ones @exactly/read-committed plugs in). */
const KAFKAJS_CODECS: Readonly<Record<Compression, number>> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};
