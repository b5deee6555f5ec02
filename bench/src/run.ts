// `pnpm bench`: Exactly side by side with an at-least-once baseline, Kafka Streams exactly_once_v2 and the
// broker's ceiling, on one broker, in one run. Flags: see options.ts (USAGE); method: docs/benchmarks.md.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureKafkaJars, startKafka } from '@exactly/testkit';
import { contenders } from './contenders.js';
import { benchmarksDoc, compressionBlock, countBlock } from './doc.js';
import { BENCHMARKS_DOC, writeBlock } from './doc-blocks.js';
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
try {
  for (const partitions of options.partitions)
    results.push(
      await runScenario(partitions, {
        brokers: kafka.brokers,
        logDirs: kafka.cluster?.nodes.map((node) => join(node.dir, 'data')) ?? [],
        kafkaLibs,
        options,
        log,
      }),
    );
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
if (options.compression) {
  await writeBlock(
    'compression',
    compressionBlock(summaries, results, { command, date, setup, versions: versionLine }),
  );
} else if (options.workload === 'count') {
  await writeBlock('count', countBlock(summaries, { command, date, setup, versions: versionLine, keys: options.keys }));
} else {
  const previous = await readFile(BENCHMARKS_DOC, 'utf8').catch(() => '');
  await writeFile(
    BENCHMARKS_DOC,
    benchmarksDoc(summaries, contenders, {
      previous,
      command,
      date,
      quick: options.quick,
      setup,
      versions: versionLine,
      latencySeconds: options.latencySeconds,
      warmupSeconds: options.warmupSeconds,
    }),
  );
}
for (const s of summaries)
  for (const r of s.rows)
    log(
      `${s.partitions} partitions  ${r.name.padEnd(14)} median ${r.recordsPerSecond.median} rec/s (${r.recordsPerSecond.min}-${r.recordsPerSecond.max})  x ALO ${r.toAtLeastOnce ?? '-'}  x KS ${r.toKafkaStreams ?? '-'}  x ceiling ${r.toCeiling ?? '-'}  p99 ${r.latency?.p99Ms ?? '-'} ms`,
    );
log(`Written: docs/benchmarks.md and bench/results/ (${((Date.now() - started) / 1000).toFixed(0)} s)`);
