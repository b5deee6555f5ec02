import { setTimeout as delay } from 'node:timers/promises';
import { testClient } from './client.js';

/** The internal topic whose partition leaders coordinate groups, and transactions. */
const COORDINATION_TOPICS = { group: '__consumer_offsets', transaction: '__transaction_state' } as const;

/**
 * The node id of the broker that coordinates a consumer group (`group`, key: the group id) or a transactional
 * producer (`transaction`, key: the transactional.id) now. Kafka's rule: the leader of partition
 * `abs(key.hashCode()) % partitions` of the internal topic, with Java's String.hashCode. For chaos tests that
 * kill a coordinator on purpose; undefined while that partition has no leader (or the topic does not exist yet).
 */
export async function coordinatorOf(
  brokers: string,
  type: keyof typeof COORDINATION_TOPICS,
  key: string,
): Promise<number | undefined> {
  const admin = testClient(brokers, 'exactly-coordinators').admin();
  await admin.connect();
  try {
    // The internal topic may not exist yet, or be between leaders: ask again for a while.
    const deadline = Date.now() + 10_000;
    let lastError: unknown;
    while (Date.now() < deadline) {
      try {
        const { topics } = await admin.fetchTopicMetadata({ topics: [COORDINATION_TOPICS[type]] });
        const partitions = topics[0]?.partitions ?? [];
        const wanted = javaAbs(javaStringHash(key)) % Math.max(1, partitions.length);
        const leader = partitions.find((p) => p.partitionId === wanted)?.leader;
        if (leader !== undefined && leader >= 0) return leader;
      } catch (error) {
        lastError = error;
      }
      await delay(200);
    }
    if (lastError) throw lastError;
    return undefined;
  } finally {
    await admin.disconnect();
  }
}

/** Java's String.hashCode(): 31-based over UTF-16 code units, in 32-bit arithmetic. */
export function javaStringHash(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
  return hash;
}

/** Kafka's Utils.abs: Math.abs, except that Integer.MIN_VALUE gives 0. */
function javaAbs(n: number): number {
  return n === -2147483648 ? 0 : Math.abs(n);
}
