// Topics of one measurement: fresh outputs (and group) per contender and run, removed afterwards so that a
// full run (3 partition counts x 3 runs x every contender x ~1 GB) does not fill the disk.
import { createTopics as createTestTopics, testClient } from '@exactly/testkit';
import type { BenchEnv, Workload } from './contenders.js';

let sequence = 0;
/** A name no other measurement of this process uses. */
export const uniqueName = (prefix: string): string =>
  `bench-${prefix}-${Date.now().toString(36)}-${(sequence++).toString(36)}`;

/** The environment of one contender process reading `input` (default: a new `<group>.in`); its outputs are new. */
export function stageEnv(brokers: string, name: string, workload: Workload, input?: string): BenchEnv {
  const id = uniqueName(name);
  return {
    BENCH_WORKLOAD: workload,
    BENCH_BROKERS: brokers,
    BENCH_GROUP: id,
    BENCH_INPUT: input ?? `${id}.in`,
    BENCH_LEFT: `${id}.left`,
    BENCH_RIGHT: `${id}.right`,
  };
}

/** Outputs of `env` (and Exactly's dead-letter topic `<group>.dlq`), `partitions` each. */
export const outputTopics = (env: BenchEnv): string[] => [env.BENCH_LEFT, env.BENCH_RIGHT, `${env.BENCH_GROUP}.dlq`];

/**
 * Creates topics. `logAppendTime`: the broker stamps each record with its append time, so that the throughput
 * window (first to last output) is measured alike for every contender; Kafka Streams would otherwise copy the
 * input records' timestamps to its outputs.
 */
export async function createTopics(
  brokers: string,
  names: readonly string[],
  partitions: number,
  logAppendTime = false,
): Promise<void> {
  const config: Record<string, string> = logAppendTime ? { 'message.timestamp.type': 'LogAppendTime' } : {};
  await createTestTopics(
    brokers,
    names.map((name) => ({ name, partitions, config })),
  );
}

export async function deleteTopics(brokers: string, names: readonly string[]): Promise<void> {
  const admin = testClient(brokers, 'exactly-bench').admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [...names], timeout: 60_000 });
  } finally {
    await admin.disconnect();
  }
}
