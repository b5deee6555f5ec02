// `pnpm bench --compare <earlier.json>`: each contender's change against an earlier run (a file of
// bench/results/), so that a regression shows in review. Absolute rates drift with the machine; the ratio to
// Kafka Streams, measured side by side in each run, is the steadier measure, and is shown too.
import { readFile } from 'node:fs/promises';
import type { ContenderRow, ScenarioSummary } from './summary.js';

/** What bench/results/<date>.json holds, as far as a comparison reads it. */
export interface SavedRun {
  readonly date: string;
  readonly command: string;
  readonly summaries: readonly ScenarioSummary[];
}

/** A change this large (throughput down, CPU or memory up) is flagged as a regression. */
const REGRESSION = 0.1;

export async function readSavedRun(file: string): Promise<SavedRun> {
  const saved = JSON.parse(await readFile(file, 'utf8')) as Partial<SavedRun>;
  if (!Array.isArray(saved.summaries))
    throw new Error(`${file} is not a result of pnpm bench (bench/results/<date>.json): it has no summaries`);
  return { date: saved.date ?? 'unknown', command: saved.command ?? 'unknown', summaries: saved.summaries };
}

/** Lines: per partition count, per contender in both runs, before → after and the change. */
export function compareRuns(before: SavedRun, after: SavedRun): string[] {
  const lines = [`Compared with ${before.date} (${before.command}):`];
  for (const now of after.summaries) {
    const then = before.summaries.find((s) => s.partitions === now.partitions);
    if (!then) {
      lines.push(`${now.partitions} partitions: not in the earlier run`);
      continue;
    }
    lines.push(`${now.partitions} partitions:`);
    for (const row of now.rows) {
      const old = then.rows.find((r) => r.name === row.name);
      lines.push(old ? `  ${row.name}: ${changes(old, row).join('; ')}` : `  ${row.name}: not in the earlier run`);
    }
    for (const old of then.rows)
      if (!now.rows.some((r) => r.name === old.name)) lines.push(`  ${old.name}: not in this run`);
  }
  return lines;
}

function changes(old: ContenderRow, row: ContenderRow): string[] {
  const up = (a: number, b: number) => (a === 0 ? 0 : (b - a) / a);
  const pct = (v: number) => `${v >= 0 ? '+' : ''}${(100 * v).toFixed(0)}%`;
  const regressed = (change: number, worseWhenUp: boolean) =>
    (worseWhenUp ? change > REGRESSION : change < -REGRESSION) ? ' REGRESSION' : '';
  const rate = up(old.recordsPerSecond.median, row.recordsPerSecond.median);
  const cpu = up(old.cpuSecondsPer100k, row.cpuSecondsPer100k);
  const rss = up(old.peakRssMb, row.peakRssMb);
  const parts = [
    `${old.recordsPerSecond.median} -> ${row.recordsPerSecond.median} records/s (${pct(rate)})${regressed(rate, false)}`,
    `CPU ${old.cpuSecondsPer100k} -> ${row.cpuSecondsPer100k} s/100k (${pct(cpu)})${regressed(cpu, true)}`,
    `peak RSS ${old.peakRssMb} -> ${row.peakRssMb} MB (${pct(rss)})${regressed(rss, true)}`,
  ];
  if (old.toKafkaStreams !== undefined && row.toKafkaStreams !== undefined)
    parts.push(`× Kafka Streams ${old.toKafkaStreams} -> ${row.toKafkaStreams}`);
  if (old.latency && row.latency) parts.push(`p99 ${old.latency.p99Ms} -> ${row.latency.p99Ms} ms`);
  return parts;
}
