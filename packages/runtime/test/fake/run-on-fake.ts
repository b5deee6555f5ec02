import { setTimeout as delay } from 'node:timers/promises';
import type { Processor } from '@exactly/core';
import { createLogger } from '../../src/observability/logger.js';
import type { ResolvedOptions } from '../../src/options.js';
import type { AmqpPort } from '../../src/port/amqp.js';
import type { TablesPort } from '../../src/port/tables.js';
import { type RunningProcessor, runOnAdapter } from '../../src/run.js';
import { type FanOutTopics, fanOut } from '../fixtures/fan-out.js';
import type { FakeKafka } from './fake-kafka.js';

export type Fencing = 'partition' | 'instance';

/** Runs a processor on the fake, as `run()` would on Kafka: same options, same engine, no broker. */
export function runOnFake(
  kafka: FakeKafka,
  fencing: Fencing,
  processor: Processor,
  options: Partial<ResolvedOptions> = {},
  tables?: TablesPort,
  broker?: AmqpPort,
): Promise<RunningProcessor> {
  const resolved: ResolvedOptions = {
    brokers: ['fake:9092'],
    security: {},
    compression: 'lz4',
    postgres: undefined,
    rabbitmq: undefined,
    commitIntervalMs: 10,
    maxBatchRecords: 100,
    createTopics: false,
    inputPartitions: 1,
    metricsPort: undefined,
    provenance: true,
    schemaRegistry: undefined,
    transactionTimeoutMs: 10_000,
    sessionTimeoutMs: 30_000,
    client: 'kafkajs',
    logLevel: 'silent',
    instanceId: 'fake-instance',
    stateDir: undefined,
    startupTimeoutMs: 60_000,
    signal: undefined,
    workers: 1,
    ...options,
  };
  return runOnAdapter(processor, resolved, kafka.adapter(fencing), createLogger(resolved.logLevel), tables, broker);
}

/** The fan-out fixture's topics on the fake, `partitions` each, with `count` inputs `{ id }` already written. */
export function fanOutOnFake(kafka: FakeKafka, count: number, partitions = 1): FanOutTopics & { readonly dlq: string } {
  const topics = { id: 'fan', input: 'fan.in', left: 'fan.left', right: 'fan.right', dlq: 'fan.dlq' };
  for (const topic of [topics.input, topics.left, topics.right, topics.dlq]) kafka.createTopic(topic, partitions);
  produceItems(kafka, topics.input, count, partitions);
  return topics;
}

/** Writes `count` inputs `{ id }` (keys `key-<id>`) to `topic`, round robin over its `partitions`. */
export function produceItems(kafka: FakeKafka, topic: string, count: number, partitions: number): void {
  kafka.produce(
    topic,
    Array.from({ length: count }, (_, id) => ({
      key: `key-${id}`,
      value: JSON.stringify({ id }),
      partition: id % partitions,
    })),
  );
}

export { fanOut };

/** The `id`s of JSON records, sorted (duplicates kept, so a test sees them). */
export function ids(records: ReadonlyArray<{ value: Buffer | null }>): number[] {
  return records.map((r) => (JSON.parse(r.value?.toString() ?? 'null') as { id: number }).id).sort((a, b) => a - b);
}

export const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

/** Polls `condition` (every few ms: the fake answers at once) until true; fails with `what` at the deadline. */
export async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(5);
  }
}
