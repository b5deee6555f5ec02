import { dedupChangelogTopic, ExactlyConfigError, isQueue, type Processor, type RecordPipeline } from '@exactly/core';
import { MissingTopicsError } from './errors.js';
import type { ResolvedOptions } from './options.js';
import type { AdminPort } from './port/client.js';

/** Checks that every topic exists (or creates the missing ones); returns the input's partition count. */
export async function ensureTopics(
  admin: AdminPort,
  processor: Processor,
  pipeline: RecordPipeline,
  options: ResolvedOptions,
): Promise<number> {
  if (isQueue(processor.input)) return ensureQueueTopics(admin, processor, pipeline, options);
  const input = processor.input.name;
  const changelogs = new Set(pipeline.changelogTopics);
  const all = [input, ...pipeline.outputTopics, ...changelogs];
  const counts = await admin.partitionCounts(all);
  const missing = all.filter((t) => !counts.has(t));
  if (missing.length > 0 && !options.createTopics) throw new MissingTopicsError(missing);
  if (missing.includes(input)) {
    await admin.createTopics([{ name: input, partitions: options.inputPartitions }]);
    counts.set(input, options.inputPartitions);
  }
  const inputPartitions = counts.get(input) ?? options.inputPartitions;
  const others = missing.filter((t) => t !== input);
  if (others.length > 0) {
    await admin.createTopics(
      others.map((name) => ({
        name,
        partitions: inputPartitions,
        // A store's changelog keeps the last value of each key: what a restore reads back.
        ...(changelogs.has(name) ? { config: { 'cleanup.policy': 'compact' } } : {}),
      })),
    );
  }
  for (const changelog of changelogs) {
    const partitions = counts.get(changelog);
    if (partitions !== undefined && partitions < inputPartitions) {
      throw new ExactlyConfigError(
        'stores',
        `the changelog topic ${changelog} has ${partitions} partitions, fewer than the input ${input} (${inputPartitions}): a store's partition p is kept in changelog partition p. Give it ${inputPartitions} partitions.`,
      );
    }
  }
  return inputPartitions;
}

/**
 * For a queue input: the output topics, and the queue's de-duplication changelog (one partition: one writer per
 * queue, compacted: only the ids in the window are kept). Answers 1, the queue's "partitions".
 */
async function ensureQueueTopics(
  admin: AdminPort,
  processor: Processor,
  pipeline: RecordPipeline,
  options: ResolvedOptions,
): Promise<number> {
  const changelog = dedupChangelogTopic(processor.id, processor.input.name);
  const all = [...pipeline.outputTopics, changelog];
  const counts = await admin.partitionCounts(all);
  const missing = all.filter((t) => !counts.has(t));
  if (missing.length > 0 && !options.createTopics) throw new MissingTopicsError(missing);
  if (missing.length > 0) {
    await admin.createTopics(
      missing.map((name) => ({
        name,
        partitions: name === changelog ? 1 : options.inputPartitions,
        ...(name === changelog ? { config: { 'cleanup.policy': 'compact' } } : {}),
      })),
    );
  }
  return 1;
}
