import type { Processor } from '@exactly/core';
import type { ExampleApp } from './example.js';
import { topicSpecsOf, topicsOf, writeExampleRecords } from './example-records.js';
import { createTopics } from './kafka/client.js';
import { waitForGroupCaughtUp } from './kafka/group.js';
import { type Verdict, verifyExactlyOnce } from './verifier/verify.js';

export interface ExampleRunOptions {
  readonly brokers: string;
  readonly records: number;
  readonly partitions?: number;
  /**
   * Runs the processor until stopped, e.g. `(p) => run(p, { brokers, provenance: true })` from
   * `@exactly/runtime`. Handed in, so testkit does not depend on the runtime. Provenance must be on.
   */
  readonly start: (processor: Processor) => Promise<{ stop(): Promise<void> }>;
}

/** An example on fresh topics: write `records` inputs, run its processor until drained, then verify. */
export async function runExampleOnBroker(example: ExampleApp, options: ExampleRunOptions): Promise<Verdict> {
  const processor = example.processor(`-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`);
  const topics = topicsOf(processor);
  await createTopics(options.brokers, topicSpecsOf(processor, options.partitions ?? 3));
  await writeExampleRecords(options.brokers, example, processor, 0, options.records);
  const app = await options.start(processor);
  try {
    await waitForGroupCaughtUp(options.brokers, processor.id, topics.input);
  } finally {
    await app.stop();
  }
  return verifyExactlyOnce({ brokers: options.brokers, ...topics });
}
