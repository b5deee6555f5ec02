import { nodeTlsOptions } from '@exactly/core';
import { kafkajs } from '@exactly/read-committed';
import type { LogEntry, SASLOptions } from 'kafkajs';
import { BACKOFF } from '../../backoff.js';
import type { AdapterLog, ClientAdapter } from '../../port/client.js';
import type { KafkaConnection } from '../security.js';
import { kafkaJsAdmin } from './admin.js';
import { kafkaJsConsumer } from './consumer.js';
import { reweigh } from './logs.js';
import { kafkaJsProducer } from './producer.js';
import { quietKafkaJsWarnings } from './warnings.js';

// KafkaJS with Kafka's read_committed rule: its own filter lets aborted records of a transactional input through.
const { Kafka, logLevel } = kafkajs;

export interface KafkaJsAdapterOptions extends KafkaConnection {
  /** Receives KafkaJS's own log lines (warnings and errors only). */
  readonly log?: AdapterLog;
}

/** The KafkaJS adapter: KIP-447 is not available, so the engine runs one producer per input partition. */
export function kafkaJsAdapter(options: KafkaJsAdapterOptions): ClientAdapter {
  quietKafkaJsWarnings();
  const client = (retries: number) =>
    new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      // KafkaJS's own shapes: `ssl` is Node's TLS options, `sasl` has the same mechanisms and fields as ours.
      ssl: nodeTlsOptions(options.security?.ssl),
      sasl: options.security?.sasl as SASLOptions | undefined,
      logLevel: logLevel.WARN,
      logCreator: () => (entry: LogEntry) => {
        const { message, timestamp: _timestamp, logger: _logger, ...extra } = entry.log;
        const level = reweigh(entry.level === logLevel.ERROR ? 'error' : 'warn', message);
        if (level) options.log?.(level, `kafkajs ${entry.namespace}: ${message}`, extra);
      },
      // KafkaJS's own retries, with the runtime's back-off numbers (its formula adds jitter).
      retry: { initialRetryTime: BACKOFF.FIRST_MS, maxRetryTime: BACKOFF.MAX_MS, retries },
    });
  const kafka = client(8);
  // The admin's calls (start-up checks, restores, offset reads) are retried by the runtime, with its back-off
  // and deadline: few retries inside KafkaJS, so that an unreachable cluster is reported at once.
  const adminKafka = client(2);
  return {
    name: 'kafkajs',
    fencing: 'partition',
    consumer: (consumerOptions) => kafkaJsConsumer(kafka, consumerOptions),
    producer: (producerOptions) => kafkaJsProducer(kafka, producerOptions),
    admin: () => kafkaJsAdmin(adminKafka),
  };
}
