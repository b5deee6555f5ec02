// `pnpm bench [--quick] [--records n] [--partitions n] [--runs n]`: Exactly against its baselines, side by side.

import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startKafka } from '@exactly/testkit';
import { type Contender, type Measurement, measure } from './measure.js';
import { benchmarksDoc, summarize } from './report.js';

const path = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
const contenders: Contender[] = [
  {
    name: 'exactly',
    label: 'Exactly, exactly-once (KafkaJS, defaults)',
    args: (brokers) => [
      path('../../packages/cli/dist/bin.js'),
      'run',
      path('./contenders/exactly.ts'),
      '--brokers',
      brokers,
      '--log-level',
      'warn',
    ],
  },
  {
    name: 'at-least-once',
    label: 'at-least-once baseline (KafkaJS by hand)',
    args: () => ['--import', 'tsx', path('./contenders/at-least-once.ts')],
  },
];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    records: { type: 'string' },
    partitions: { type: 'string', default: '6' },
    runs: { type: 'string', default: '3' },
  },
});
const records = Number(values.records ?? (values.quick ? 150_000 : 600_000));
const partitions = Number(values.partitions);
const runs = Number(values.runs);

const kafka = await startKafka({ localOnly: process.env.KAFKA_BROKERS === undefined });
const results = new Map<string, Measurement[]>(contenders.map((c) => [c.name, []]));
try {
  for (let run = 1; run <= runs; run++) {
    for (const contender of contenders) {
      const m = await measure(contender, kafka.brokers, records, partitions);
      results.get(contender.name)?.push(m);
      process.stdout.write(
        `run ${run}/${runs} ${contender.name.padEnd(14)} ${String(m.recordsPerSecond).padStart(7)} rec/s  ${m.cpuSecondsPer100k} CPU s/100k  ${m.peakRssMb} MB  (${m.seconds} s)\n`,
      );
    }
  }
} finally {
  await kafka.stop();
}
const summaries = contenders.map((c) => summarize(c.name, c.label, results.get(c.name) ?? []));
const date = new Date().toISOString();
const setup = `${records.toLocaleString('en-US')} records of ~1 KB over ${partitions} partitions per contender per run, ${runs} runs interleaved, one broker (${kafka.kind}), ${process.platform} ${process.arch}, Node ${process.version}.`;
const command = `pnpm bench ${process.argv.slice(2).join(' ')}`.trim();
await mkdir(path('../results/'), { recursive: true });
await writeFile(
  path(`../results/${date.replace(/[:.]/g, '-')}.json`),
  `${JSON.stringify({ date, command, setup, summaries }, null, 2)}\n`,
);
await writeFile(
  path('../../docs/benchmarks.md'),
  benchmarksDoc(summaries, { command, date, setup, versions: 'Kafka 4.1.1, KafkaJS 2.2.4' }),
);
for (const s of summaries)
  process.stdout.write(
    `${s.label}: median ${s.medianRecordsPerSecond} rec/s (${s.minRecordsPerSecond}-${s.maxRecordsPerSecond})\n`,
  );
process.stdout.write('Written: docs/benchmarks.md and bench/results/\n');
