// docs/benchmarks.md is written by several commands: `pnpm bench` writes the page, and the state measurements
// (`pnpm bench --workload count`, `pnpm bench:state`, `pnpm bench:kv`) each write one block of its "State"
// section, as `pnpm bench --compression`, `--postgres` and `pnpm bench:pg` write theirs. A block sits between two HTML comments, so each command replaces its own and keeps the others'.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export type BlockName = 'count' | 'restore' | 'kv' | 'compression' | 'pg-clients' | 'postgres' | 'rabbitmq';

export const BENCHMARKS_DOC = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));

const begin = (name: BlockName) => `<!-- bench:${name} -->`;
const end = (name: BlockName) => `<!-- /bench:${name} -->`;

/** Block `name` of `doc` with its markers, or undefined when the doc has none. */
export function blockOf(doc: string, name: BlockName): string | undefined {
  const from = doc.indexOf(begin(name));
  const to = doc.indexOf(end(name));
  return from < 0 || to < from ? undefined : doc.slice(from, to + end(name).length);
}

/** `content` as block `name`, with its markers. */
export function block(name: BlockName, content: string): string {
  return `${begin(name)}\n${content.trim()}\n${end(name)}`;
}

/** Block `name` as it stands in `doc`, or a line saying which command writes it. */
export function keptBlock(doc: string, name: BlockName, command: string): string {
  return blockOf(doc, name) ?? block(name, `Not measured yet: run \`${command}\`.`);
}

/**
 * Writes `content` as block `name` of the page (`path`, default docs/benchmarks.md), in place of the block there.
 * A page written before the block existed has none: `insert` places it (returns the page with it), if given.
 */
export async function writeBlock(
  name: BlockName,
  content: string,
  { path = BENCHMARKS_DOC, insert }: { path?: string; insert?: (page: string, block: string) => string } = {},
): Promise<void> {
  const doc = await readFile(path, 'utf8');
  const old = blockOf(doc, name);
  const written = block(name, content);
  if (old)
    await writeFile(
      path,
      doc.replace(old, () => written),
    );
  else if (insert) await writeFile(path, insert(doc, written));
  else throw new Error(`${path} has no ${begin(name)} block: run pnpm bench once to write the page`);
}
