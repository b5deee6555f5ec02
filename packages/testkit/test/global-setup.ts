import type { TestProject } from 'vitest/node';
import { startKafka } from '../src/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
  }
}

/** One real broker for the whole test run, shared by every test file, removed at the end. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const kafka = await startKafka();
  project.provide('kafkaBrokers', kafka.brokers);
  process.stdout.write(`[exactly] tests use Kafka at ${kafka.brokers} (${kafka.kind})\n`);
  return () => kafka.stop();
}
