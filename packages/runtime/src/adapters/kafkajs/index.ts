import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { ClientAdapter } from '../../port/client.js';
import { kafkaJsAdmin } from './admin.js';
import { kafkaJsConsumer } from './consumer.js';
import { kafkaJsProducer } from './producer.js';

export interface KafkaJsAdapterOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** Receives KafkaJS's own log lines (warnings and errors only). */
  readonly log?: (level: 'warn' | 'error', message: string, extra: Record<string, unknown>) => void;
}

/** The KafkaJS adapter: KIP-447 is not available, so the engine runs one producer per input partition. */
export function kafkaJsAdapter(options: KafkaJsAdapterOptions): ClientAdapter {
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...extra } = entry.log;
      options.log?.(entry.level === logLevel.ERROR ? 'error' : 'warn', `kafkajs ${entry.namespace}: ${message}`, extra);
    },
    retry: { initialRetryTime: 100, retries: 8 },
  });
  return {
    name: 'kafkajs',
    consumer: (consumerOptions) => kafkaJsConsumer(kafka, consumerOptions),
    producer: (producerOptions) => kafkaJsProducer(kafka, producerOptions),
    admin: () => kafkaJsAdmin(kafka),
  };
}
