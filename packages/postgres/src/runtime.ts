import { PostgresTables } from './tables.js';

/**
 * The runtime's entry point (`@exactly/postgres/runtime`, loaded by `run()` for a processor with tables): the
 * database side of a processor's transactions. Not for applications: they use `table()`.
 */
export async function openTables(options: {
  readonly url: string;
  readonly processor: string;
  readonly topic: string;
  readonly twoPhase: boolean;
}): Promise<PostgresTables> {
  return PostgresTables.open(options.url, options.processor, options.topic, { twoPhase: options.twoPhase });
}
