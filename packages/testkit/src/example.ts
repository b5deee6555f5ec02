import type { Processor } from '@exactly/core';

/** One input record a generator writes: its key and its value, before encoding. */
export interface GeneratedRecord<K = unknown, V = unknown> {
  readonly key: K;
  readonly value: V;
}

/**
 * What an example in `examples/` gives `pnpm start`: its processor (topic names suffixed, so each run gets
 * fresh topics) and a generator of input records.
 */
export interface ExampleApp {
  readonly name: string;
  /** One line for the demo's banner. */
  readonly summary: string;
  processor(suffix: string): Processor;
  /** The i-th input record (i from 0). Deterministic, so a run can be repeated. */
  record(i: number): GeneratedRecord;
}
