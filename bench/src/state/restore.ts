// `pnpm bench:state`: how long a processor with a large store takes to be ready again after a SIGKILL, with its
// store in memory (the whole changelog is read back) and with a local copy (--state-dir: only the tail after
// the checkpoint), side by side on one broker; and the resident memory each takes per million keys.
// Method and figures: docs/benchmarks.md ("State: restore after a crash").

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { changelogTopic } from '@exactly/core';
import { createTopics, generateAmounts, startKafka, uniqueTopic, waitForGroupCaughtUp } from '@exactly/testkit';
import { writeBlock } from '../doc-blocks.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    keys: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
    client: { type: 'string', default: 'platformatic' },
  },
});
const keys = Number(values.keys);
const runs = Number(values.runs);
const client = values.client ?? 'platformatic';
const cli = fileURLToPath(new URL('../../../packages/cli/dist/bin.js', import.meta.url));
const main = fileURLToPath(new URL('./totals-main.ts', import.meta.url));
const log = (line: string) => process.stdout.write(`${line}\n`);

interface Restored {
  /** From the process's start to its 'stores restored' line. */
  readonly readyMs: number;
  /** The restore itself, as the runtime logs it. */
  readonly restoreMs: number;
  readonly records: number;
  readonly keys: number;
  /** Resident memory once restored (VmRSS), in MB. */
  readonly rssMb: number;
}

const kafka = await startKafka({ localOnly: process.env.KAFKA_BROKERS === undefined });
const stateDir = mkdtempSync(join(tmpdir(), 'exactly-bench-state-'));
try {
  const id = uniqueTopic('bench-state');
  const topics = { id, input: `${id}.in`, output: `${id}.out`, changelog: changelogTopic(id, 'totals') };
  await createTopics(kafka.brokers, [
    { name: topics.input, partitions: 1 },
    { name: topics.output, partitions: 1 },
    { name: `${id}.dlq`, partitions: 1 },
    { name: topics.changelog, partitions: 1, config: { 'cleanup.policy': 'compact' } },
  ]);
  log(`writing ${keys} records, one per account...`);
  await generateAmounts({ brokers: kafka.brokers, topic: topics.input, count: keys, keys });
  log('processing them once (the store gets a key per account; the local copy is written as it goes)...');
  const first = start(kafka.brokers, topics, ['--state-dir', stateDir]);
  await waitForGroupCaughtUp(kafka.brokers, topics.id, topics.input, 600_000);
  await kill9(first.child);

  const results: Record<'memory' | 'local', Restored[]> = { memory: [], local: [] };
  let added = 0;
  for (let run = 1; run <= runs; run++) {
    for (const keeping of ['memory', 'local'] as const) {
      const processor = start(kafka.brokers, topics, keeping === 'local' ? ['--state-dir', stateDir] : []);
      // A partition's stores are restored before its first record: one more record brings it on.
      await generateAmounts({ brokers: kafka.brokers, topic: topics.input, count: 1, keys, startId: keys + added++ });
      const restored = await processor.restored;
      await kill9(processor.child); // the next start is after a crash again
      results[keeping].push(restored);
      log(`run ${run} ${keeping.padEnd(6)} ${JSON.stringify(restored)}`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  const m = (keeping: 'memory' | 'local', field: keyof Restored) => median(results[keeping].map((r) => r[field]));
  const n = (value: number) => value.toLocaleString('en-US');
  const spread = (keeping: 'memory' | 'local', field: keyof Restored) => {
    const xs = results[keeping].map((r) => r[field]);
    return `${n(Math.min(...xs))} – ${n(Math.max(...xs))}`;
  };
  const row = (keeping: 'memory' | 'local', label: string) =>
    `| ${label} | ${n(m(keeping, 'restoreMs'))} | ${spread(keeping, 'restoreMs')} | ${n(m(keeping, 'records'))} | ${n(m(keeping, 'keys'))} | ${n(m(keeping, 'readyMs'))} | ${n(m(keeping, 'rssMb'))} |`;
  const table = [row('memory', 'in memory (the default)'), row('local', 'local copy (`--state-dir`)')];
  for (const line of table) log(line);
  const perMillion = Math.round(((m('memory', 'rssMb') - m('local', 'rssMb')) * 1_000_000) / keys);
  const command = `pnpm bench:state ${process.argv.slice(2).join(' ')}`.trim();
  const cpu = cpus();
  await writeBlock(
    'restore',
    `A running-totals processor (\`runningTotals\` of \`@exactly/testkit\`: a total per account in a store) has
processed ${n(keys)} records, one per account, with \`--state-dir\`, and was SIGKILLed. It is then started
again and SIGKILLed once restored, ${runs} times each way, alternating: without \`--state-dir\` (its store in
memory, rebuilt from the whole changelog) and with it (the local copy, and the changelog's tail after its
checkpoint). One more input record after each start brings the partition's restore on. Medians of ${runs} runs;
one input partition, ${client} client, one local broker; ${process.platform} ${process.arch}, ${cpu.length} CPUs.

| store | restore (ms, median) | spread (ms) | changelog records read | keys after it | start to restored (ms) | RSS once restored (MB) |
|---|---|---|---|---|---|---|
${table.join('\n')}

*Restore* is the runtime's own measure (its \`stores restored\` log line, \`exactly_restore_seconds\`). *Start to
restored* also holds Node's start-up and the group's rebalance, which waits for the killed member's session
(6 s here) to end: it is the same either way. A store held in memory costs about ${n(perMillion)} MB per million
keys here (the RSS difference; small JSON values); a local copy is memory-mapped, and its pages count only
once read. Command: \`${command}\` (${new Date().toISOString()}).`,
  );
  log(`\nWritten: the restore block of docs/benchmarks.md (${command})`);
} finally {
  rmSync(stateDir, { recursive: true, force: true });
  await kafka.stop();
}

function start(brokers: string, topics: { id: string; input: string; output: string }, extra: string[]) {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    // A short session: a killed member's partition moves on sooner (the restore is timed on its own anyway).
    [cli, 'run', main, '--brokers', brokers, '--client', client, '--session-timeout', '6000', ...extra],
    {
      env: { ...process.env, BENCH_GROUP: topics.id, BENCH_INPUT: topics.input, BENCH_OUTPUT: topics.output },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let logs = '';
  const restored = new Promise<Restored>((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      logs += chunk.toString();
      const line = logs.split('\n').find((l) => l.includes('"stores restored"'));
      if (!line) return;
      const entry = JSON.parse(line) as { ms: number; records: number; keys: { totals: number } };
      resolve({
        readyMs: Math.round(performance.now() - started),
        restoreMs: entry.ms,
        records: entry.records,
        keys: entry.keys.totals,
        rssMb: rssMb(child.pid),
      });
    });
    child.on('exit', (code) =>
      reject(new Error(`the processor exited (${code}) before restoring:\n${logs.slice(-2000)}`)),
    );
  });
  return { child, restored };
}

function rssMb(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
  return Math.round(kb / 1024);
}

async function kill9(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}
