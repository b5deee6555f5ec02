import { setTimeout as delay } from 'node:timers/promises';
import { type KafkaTarget, testClient } from './client.js';

/**
 * Records between the group's committed offsets and the end of `topic`, summed over partitions. Retries
 * the broker's passing errors (a coordinator still loading after a start) for up to 15 s.
 */
export async function groupLag(brokers: KafkaTarget, groupId: string, topic: string): Promise<number> {
  return (await groupProgress(brokers, groupId, topic)).lag;
}

/**
 * The group's committed offsets on `topic` summed over partitions (`committed`: how far it got, counting a
 * partition it never committed as at its start) and what is left (`lag`). Retries passing errors for 15 s.
 */
export async function groupProgress(
  brokers: KafkaTarget,
  groupId: string,
  topic: string,
): Promise<{ committed: number; lag: number }> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await groupProgressOnce(brokers, groupId, topic);
    } catch (error) {
      const retriable = (error as { retriable?: boolean }).retriable === true;
      if (!retriable || Date.now() > deadline) throw error;
      await delay(200);
    }
  }
}

async function groupProgressOnce(
  brokers: KafkaTarget,
  groupId: string,
  topic: string,
): Promise<{ committed: number; lag: number }> {
  const admin = testClient(brokers, 'exactly-lag').admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    let lag = 0;
    let committed = 0;
    for (const { partition, high, low } of ends) {
      const offset = offsets?.partitions.find((p) => p.partition === partition)?.offset ?? '-1';
      const from = offset === '-1' ? BigInt(low) : BigInt(offset);
      lag += Number(BigInt(high) - from);
      committed += Number(from);
    }
    return { committed, lag };
  } finally {
    await admin.disconnect();
  }
}

/** Polls until the group has committed everything in `topic`; rejects with the remaining lag at the deadline. */
export async function waitForGroupCaughtUp(
  brokers: KafkaTarget,
  groupId: string,
  topic: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lag = Number.NaN;
  while (Date.now() < deadline) {
    lag = await groupLag(brokers, groupId, topic).catch(() => Number.NaN);
    if (lag === 0) return;
    await delay(250);
  }
  throw new Error(`group ${groupId} still ${lag} records behind on ${topic} after ${timeoutMs} ms`);
}

/** Polls `condition` until it is true; rejects with `what` at the deadline. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await delay(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
