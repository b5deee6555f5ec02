import { ExactlyConfigError, isTable, type Processor } from '@exactly/core';
import type { OpenTables, TablesPort } from './port/tables.js';
import { urlWithoutPassword } from './url-without-password.js';

/** The names of the tables a processor writes to; none for a processor with topics only. */
export function tableOutputs(processor: Processor): string[] {
  return Object.values(processor.outputs)
    .filter(isTable)
    .map((table) => table.name);
}

/**
 * A processor with table outputs needs a database URL: checked before anything is reached, so that a missing one
 * stops the start at once, saying how to give it.
 */
export function checkDatabaseOption(processor: Processor, url: string | undefined): void {
  const tables = tableOutputs(processor);
  if (tables.length === 0 || url !== undefined) return;
  throw new ExactlyConfigError(
    'postgres',
    `processor '${processor.id}' writes to table(s) ${tables.join(', ')}: give its PostgreSQL database as ` +
      `run(processor, { postgres: 'postgres://user:password@host:5432/db' }), exactly run --postgres URL, or ` +
      'DATABASE_URL (exactly postgres start runs one for development)',
  );
}

/**
 * Opens the database a processor with table outputs writes to, through `@exactly/postgres` (loaded only then, so
 * a processor without tables needs neither it nor `pg`). Two-phase commit is checked for when a batch may hold
 * something for Kafka besides rows: topic outputs, store changes, or a dead letter.
 */
export async function openDatabase(
  processor: Processor,
  url: string | undefined,
  hasStores: boolean,
): Promise<TablesPort | undefined> {
  checkDatabaseOption(processor, url);
  if (url === undefined) return undefined;
  let openTables: OpenTables;
  try {
    ({ openTables } = await import('@exactly/postgres/runtime'));
  } catch (error) {
    throw new ExactlyConfigError(
      'outputs',
      `processor '${processor.id}' writes to tables, which needs @exactly/postgres beside @exactly/runtime: ` +
        `pnpm add @exactly/postgres (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const topics = Object.values(processor.outputs).some((output) => !isTable(output));
  return openTables({
    url,
    processor: processor.id,
    topic: processor.input.name,
    twoPhase: topics || hasStores || processor.onError === 'dead-letter',
  });
}

/** The URL without its password, for logs. */
export function describeDatabase(url: string): string {
  return urlWithoutPassword(url, 'postgres://(unparsable URL)');
}
