import type { PartitionOffset } from '../port/client.js';

/** Offsets grouped by topic, in the shape each client's offset commit takes (`entry` makes one partition's). */
export function offsetsByTopic<T>(
  offsets: readonly PartitionOffset[],
  entry: (offset: PartitionOffset) => T,
): { topic: string; partitions: T[] }[] {
  const topics = new Map<string, T[]>();
  for (const offset of offsets) {
    const partitions = topics.get(offset.topic) ?? [];
    partitions.push(entry(offset));
    topics.set(offset.topic, partitions);
  }
  return [...topics].map(([topic, partitions]) => ({ topic, partitions }));
}
