import { createTopics, type KafkaTarget, uniqueTopic } from '@exactly/testkit';
import { nodeRunsPlatformatic } from '../src/adapters/platformatic/node-version.js';
import type { FanOutTopics } from './fixtures/fan-out.js';

/** Fresh topics (and group id) for one test: input with `partitions`, outputs with the same count. */
export async function freshTopics(
  brokers: KafkaTarget,
  name: string,
  partitions: number,
): Promise<FanOutTopics & { dlq: string }> {
  const id = uniqueTopic(name);
  const topics = { id, input: `${id}.in`, left: `${id}.left`, right: `${id}.right`, dlq: `${id}.dlq` };
  await createTopics(
    brokers,
    [topics.input, topics.left, topics.right, topics.dlq].map((t) => ({ name: t, partitions })),
  );
  return topics;
}

/** Ids found in the JSON values of records. */
export function ids(records: ReadonlyArray<{ value: Buffer | null }>): number[] {
  return records.map((r) => (JSON.parse(r.value?.toString() ?? 'null') as { id: number }).id).sort((a, b) => a - b);
}

export const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

/**
 * The client adapters every exactly-once test runs against. @platformatic/kafka needs Node 22.22+: on an older
 * Node (which only the kafkajs adapter supports) its variants are not generated; CI runs Node 24, so both.
 */
export const CLIENTS: readonly ('kafkajs' | 'platformatic')[] = nodeRunsPlatformatic(process.versions.node)
  ? ['kafkajs', 'platformatic']
  : ['kafkajs'];
