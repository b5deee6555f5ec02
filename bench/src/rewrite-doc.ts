// `pnpm bench:doc <bench/results/date.json> [page]`: writes docs/benchmarks.md (or page) again from a saved full run, with the
// page's current text around its tables (the prose of doc.ts changes after a run, e.g. with a new profile).
// The sections kept from other commands (state, compression, PostgreSQL, RabbitMQ) stay as they are.
import { readFile, writeFile } from 'node:fs/promises';
import { contenders } from './contenders.js';
import { fullRunPage, type SavedFullRun } from './doc.js';
import { BENCHMARKS_DOC } from './doc-blocks.js';

const [file, page = BENCHMARKS_DOC] = process.argv.slice(2);
if (!file) throw new Error('usage: pnpm bench:doc <bench/results/<date>.json> (a run of pnpm bench)');
// Two saved runs given (a shell glob) would make the second the page, and overwrite that run with a page.
if (!page.endsWith('.md')) throw new Error(`the page to write must be a .md file, got ${page}`);
const saved = JSON.parse(await readFile(file, 'utf8')) as SavedFullRun;
if (!saved.command?.startsWith('pnpm bench') || /--(compression|postgres|rabbitmq|workload)/.test(saved.command))
  throw new Error(`${file} is not a throughput run of pnpm bench (its command: ${saved.command})`);
const previous = await readFile(page, 'utf8');
await writeFile(page, fullRunPage(saved, contenders, previous));
process.stdout.write(`Written: ${page} from ${file}\n`);
