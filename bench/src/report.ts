import type { Measurement } from './measure.js';

export interface Summary {
  readonly contender: string;
  readonly label: string;
  readonly runs: readonly Measurement[];
  readonly medianRecordsPerSecond: number;
  readonly minRecordsPerSecond: number;
  readonly maxRecordsPerSecond: number;
  readonly medianCpuSecondsPer100k: number;
  readonly medianPeakRssMb: number;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

export function summarize(contender: string, label: string, runs: readonly Measurement[]): Summary {
  const rates = runs.map((r) => r.recordsPerSecond);
  return {
    contender,
    label,
    runs,
    medianRecordsPerSecond: Math.round(median(rates)),
    minRecordsPerSecond: Math.min(...rates),
    maxRecordsPerSecond: Math.max(...rates),
    medianCpuSecondsPer100k: Number(median(runs.map((r) => r.cpuSecondsPer100k)).toFixed(2)),
    medianPeakRssMb: Math.round(median(runs.map((r) => r.peakRssMb))),
  };
}

export function benchmarksDoc(
  summaries: readonly Summary[],
  meta: { command: string; date: string; versions: string; setup: string },
): string {
  const baseline = summaries.find((s) => s.contender === 'at-least-once');
  const rows = summaries.map((s) => {
    const ratio = baseline ? (s.medianRecordsPerSecond / baseline.medianRecordsPerSecond).toFixed(2) : '-';
    return `| ${s.label} | ${s.medianRecordsPerSecond.toLocaleString('en-US')} | ${s.minRecordsPerSecond.toLocaleString('en-US')} – ${s.maxRecordsPerSecond.toLocaleString('en-US')} | ${ratio} | ${s.medianCpuSecondsPer100k} | ${s.medianPeakRssMb} |`;
  });
  return `# Benchmarks

Every contender runs on the same broker and machine, on the same workload, interleaved (A, B, A, B, ...),
so that the *ratios* mean something on a shared machine whose absolute speed drifts from run to run.

Workload: read 1 KB JSON records, parse them, emit one record to each of two output topics.
Throughput: input records fully processed per second, from the first committed output record to the last
(by their timestamps, read back with read_committed). CPU and peak RSS are the contender's process's own.

## Latest run

${meta.setup}

| contender | records/s (median) | spread (min – max) | ratio to at-least-once | CPU s per 100k records | peak RSS (MB) |
|---|---|---|---|---|---|
${rows.join('\n')}

Command: \`${meta.command}\` (${meta.date}; ${meta.versions}).

## What is not measured yet (issue 7)

Kafka Streams \`exactly_once_v2\` as a peer, the broker's ceiling (Kafka's own performance tools), end-to-end
latency at a fixed rate below saturation, and scaling at 6, 24 and 96 input partitions.
`;
}
