import type { Processor, RecordPipeline } from '@exactly/core';
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
  const input = processor.input.name;
  const all = [input, ...pipeline.outputTopics];
  const counts = await admin.partitionCounts(all);
  const missing = all.filter((t) => !counts.has(t));
  if (missing.length > 0 && !options.createTopics) throw new MissingTopicsError(missing);
  if (missing.includes(input)) {
    await admin.createTopics([{ name: input, partitions: options.inputPartitions }]);
    counts.set(input, options.inputPartitions);
  }
  const inputPartitions = counts.get(input) ?? options.inputPartitions;
  const outputs = missing.filter((t) => t !== input);
  if (outputs.length > 0) await admin.createTopics(outputs.map((name) => ({ name, partitions: inputPartitions })));
  return inputPartitions;
}
