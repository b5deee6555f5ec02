// `pnpm bench`: Exactly side by side with an at-least-once baseline, Kafka Streams exactly_once_v2 and the
// broker's ceiling, on one broker, in one run. Flags: see options.ts (USAGE); method: docs/benchmarks.md.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureKafkaJars, startKafka, startPostgres } from '@exactly/testkit';
import pg from 'pg';
import { compareRuns, readSavedRun } from './compare.js';
import { contenders } from './contenders.js';
import { compressionBlock, countBlock, fullRunPage, postgresBlock, postgresSection } from './doc.js';
import { writeBlock } from './doc-blocks.js';
import { parseOptions, USAGE } from './options.js';
import { runScenario } from './scenario.js';
import { type ScenarioResult, summarize } from './summary.js';
import { versions } from './versions.js';

// KafkaJS 2.2.4's request queue asks Node for a negative timeout when idle: harmless, and it would flood the log.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name !== 'TimeoutNegativeWarning') process.stderr.write(`${warning.name}: ${warning.message}\n`);
});

const path = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
const log = (line: string) => process.stdout.write(`${line}\n`);
const started = Date.now();

if (process.argv.includes('--help')) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const compareTo = process.argv.indexOf('--to');
if (compareTo >= 0) {
  // Two saved runs compared, without a run of its own.
  const earlier = process.argv[process.argv.indexOf('--compare') + 1];
  const later = process.argv[compareTo + 1];
  if (!process.argv.includes('--compare') || !earlier || !later) {
    process.stderr.write(`--to needs --compare: pnpm bench --compare <earlier.json> --to <later.json>\n${USAGE}\n`);
    process.exit(2);
  }
  for (const line of compareRuns(await readSavedRun(earlier), await readSavedRun(later))) log(line);
  process.exit(0);
}
if (process.argv.includes('--rabbitmq')) {
  // A run of its own: a RabbitMQ queue into Kafka (bench/src/rabbitmq/queue-bench.ts), its block of the page.
  const { runRabbitMQBench } = await import('./rabbitmq/queue-bench.js');
  await runRabbitMQBench(process.argv.slice(2), log);
  process.exit(0);
}
const options = (() => {
  try {
    return parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
})();
for (const contender of options.contenders) await contender.prepare?.(log);
const kafkaLibs = options.ceiling ? await ensureKafkaJars() : '';

const kafka = await startKafka({ localOnly: process.env.KAFKA_BROKERS === undefined });
const results: ScenarioResult[] = [];
// Contenders with tables (`--postgres`): one local PostgreSQL for the run (the testkit's: fsync off), stopped at the end.
let postgresAbout = '';
try {
  const database = options.contenders.some((c) => c.postgres) ? await startPostgres({ localOnly: true }) : undefined;
  try {
    if (database) {
      postgresAbout = `${await serverVersion(database.url)}: one local server for the run (fsync, synchronous_commit and full_page_writes off, as the testkit runs it), on the same machine`;
      log(`PostgreSQL: ${database.url} (${postgresAbout})`);
    }
    for (const partitions of options.partitions)
      results.push(
        await runScenario(partitions, {
          brokers: kafka.brokers,
          logDirs: kafka.cluster?.nodes.map((node) => join(node.dir, 'data')) ?? [],
          kafkaLibs,
          options,
          log,
          ...(database ? { postgres: { url: database.url, pid: database.local?.pid } } : {}),
        }),
      );
  } finally {
    await database?.stop();
  }
} finally {
  await kafka.stop();
}

const summaries = results.map((result) => summarize(result, contenders));
const date = new Date().toISOString();
const cpu = cpus();
const setup =
  `${options.runs} throughput run${options.runs > 1 ? 's' : ''} and ${options.latencyRuns} latency run${options.latencyRuns > 1 ? 's' : ''} per contender, interleaved; ` +
  `one broker (${kafka.kind}); ${process.platform} ${process.arch}, ${cpu.length} CPUs (${cpu[0]?.model.trim() ?? 'unknown'}), shared by the broker, the contender and the benchmark's own generator and reader.`;
const command = `pnpm bench ${process.argv.slice(2).join(' ')}`.trim();
const versionLine = await versions();
await mkdir(path('../results/'), { recursive: true });
const saved = {
  date,
  command,
  setup,
  versions: versionLine,
  options: { ...options, contenders: options.contenders.map((c) => c.name) },
  results,
  summaries,
};
await writeFile(path(`../results/${date.replace(/[:.]/g, '-')}.json`), `${JSON.stringify(saved, null, 2)}\n`);
const page = { path: options.doc };
if (options.compression) {
  await writeBlock(
    'compression',
    compressionBlock(summaries, results, { command, date, setup, versions: versionLine }),
    page,
  );
} else if (options.postgres) {
  await writeBlock(
    'postgres',
    postgresBlock(summaries, results, { command, date, setup, versions: versionLine, postgres: postgresAbout }),
    // A page from before the block: its section goes before "PostgreSQL clients" (as benchmarksDoc places it).
    { ...page, insert: (doc, block) => insertSection(doc, postgresSection(block), '## PostgreSQL clients') },
  );
} else if (options.workload === 'count') {
  await writeBlock(
    'count',
    countBlock(summaries, { command, date, setup, versions: versionLine, keys: options.keys }),
    page,
  );
} else {
  const previous = await readFile(options.doc, 'utf8').catch(() => '');
  await writeFile(options.doc, fullRunPage(saved, contenders, previous));
}
for (const s of summaries)
  for (const r of s.rows)
    log(
      `${s.partitions} partitions  ${r.name.padEnd(14)} median ${r.recordsPerSecond.median} rec/s (${r.recordsPerSecond.min}-${r.recordsPerSecond.max})  x ALO ${r.toAtLeastOnce ?? '-'}  x KS ${r.toKafkaStreams ?? '-'}  x ceiling ${r.toCeiling ?? '-'}  p99 ${r.latency?.p99Ms ?? '-'} ms`,
    );
log(`Written: ${options.doc} and bench/results/ (${((Date.now() - started) / 1000).toFixed(0)} s)`);
if (options.compare) for (const line of compareRuns(await readSavedRun(options.compare), saved)) log(line);

/** `doc` with `section` before the heading `before` (else at the end). */
function insertSection(doc: string, section: string, before: string): string {
  const at = doc.indexOf(`\n${before}\n`);
  return at < 0 ? `${doc.trimEnd()}\n\n${section}\n` : `${doc.slice(0, at + 1)}${section}\n\n${doc.slice(at + 1)}`;
}

/** The server's version, e.g. "PostgreSQL 15.14". */
async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return `PostgreSQL ${rows[0]?.server_version.split(' ')[0] ?? 'unknown'}`;
  } finally {
    await client.end();
  }
}
