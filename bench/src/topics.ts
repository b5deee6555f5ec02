// Topics of one measurement: fresh outputs (and group) per contender and run, removed afterwards so that a
// full run (3 partition counts x 3 runs x every contender x ~1 GB) does not fill the disk.
import { setTimeout as delay } from 'node:timers/promises';
import { testClient } from '@exactly/testkit';
import type { BenchEnv } from './contenders.js';

let sequence = 0;
/** A name no other measurement of this process uses. */
export const uniqueName = (prefix: string): string =>
  `bench-${prefix}-${Date.now().toString(36)}-${(sequence++).toString(36)}`;

/** The environment of one contender process reading `input` (default: a new `<group>.in`); its outputs are new. */
export function stageEnv(brokers: string, name: string, input?: string): BenchEnv {
  const id = uniqueName(name);
  return {
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
  const admin = testClient(brokers, 'exactly-bench').admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: false,
      topics: names.map((topic) => ({
        topic,
        numPartitions: partitions,
        replicationFactor: 1,
        configEntries: logAppendTime ? [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] : [],
      })),
    });
    // Not KafkaJS's waitForLeaders: it gives up on UNKNOWN_TOPIC_OR_PARTITION, which a KRaft broker answers
    // for a moment after creating many partitions at once.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ready = await admin
        .fetchTopicMetadata({ topics: [...names] })
        .then(({ topics }) =>
          topics.every((t) => t.partitions.length === partitions && t.partitions.every((p) => p.leader >= 0)),
        )
        .catch(() => false);
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`topics ${names.join(', ')} have no leaders after 30 s`);
      await delay(100);
    }
  } finally {
    await admin.disconnect();
  }
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
