// The numbers of one partition count: medians and spreads over the runs, and the ratios between contenders.
import type { CeilingMeasurement } from './ceiling.js';
import { AT_LEAST_ONCE_PLATFORMATIC, type Contender, KAFKA_STREAMS } from './contenders.js';
import type { LatencyMeasurement } from './latency.js';
import { median } from './stats.js';
import type { ThroughputMeasurement } from './throughput.js';

/** Everything measured at one partition count; written as is to bench/results/<timestamp>.json. */
export interface ScenarioResult {
  readonly partitions: number;
  readonly records: number;
  /** The latency phase's rate, and where it came from. */
  readonly rate: number;
  readonly rateSource: string;
  /** By contender name, one entry per run. */
  readonly throughput: Readonly<Record<string, readonly ThroughputMeasurement[]>>;
  readonly latency: Readonly<Record<string, readonly LatencyMeasurement[]>>;
  readonly ceiling: readonly CeilingMeasurement[];
}

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export interface Latency {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly unseen: number;
}

export interface ContenderRow {
  readonly name: string;
  readonly label: string;
  readonly goals: boolean;
  readonly recordsPerSecond: Spread;
  readonly cpuSecondsPer100k: number;
  readonly peakRssMb: number;
  /** Median p50 and p99 over the latency runs, the largest max, and outputs never seen; undefined if not run. */
  readonly latency: Latency | undefined;
  /** This contender's median records/s over the reference's; undefined when the reference was not run. */
  readonly toAtLeastOnce: number | undefined;
  readonly toKafkaStreams: number | undefined;
  readonly toCeiling: number | undefined;
}

export interface ScenarioSummary {
  readonly partitions: number;
  readonly records: number;
  readonly rate: number;
  readonly rateSource: string;
  readonly rows: readonly ContenderRow[];
  readonly ceiling:
    | { readonly recordsPerSecond: Spread; readonly producer: Spread; readonly consumer: Spread }
    | undefined;
}

const spread = (values: readonly number[]): Spread => ({
  median: Math.round(median(values)),
  min: Math.min(...values),
  max: Math.max(...values),
});

export function summarize(result: ScenarioResult, contenders: readonly Contender[]): ScenarioSummary {
  const ceiling =
    result.ceiling.length > 0
      ? {
          recordsPerSecond: spread(result.ceiling.map((c) => c.recordsPerSecond)),
          producer: spread(result.ceiling.map((c) => c.producerRecordsPerSecond)),
          consumer: spread(result.ceiling.map((c) => c.consumerRecordsPerSecond)),
        }
      : undefined;
  const medianRate = (name: string): number | undefined => {
    const runs = result.throughput[name];
    return runs?.length ? median(runs.map((r) => r.recordsPerSecond)) : undefined;
  };
  const ratio = (value: number, reference: number | undefined) =>
    reference ? Number((value / reference).toFixed(2)) : undefined;
  const rows = contenders
    .filter((c) => result.throughput[c.name]?.length)
    .map((c): ContenderRow => {
      const runs = result.throughput[c.name] ?? [];
      const latency = result.latency[c.name] ?? [];
      const recordsPerSecond = spread(runs.map((r) => r.recordsPerSecond));
      return {
        name: c.name,
        label: c.label,
        goals: c.goals,
        recordsPerSecond,
        cpuSecondsPer100k: Number(median(runs.map((r) => r.cpuSecondsPer100k)).toFixed(2)),
        peakRssMb: Math.round(median(runs.map((r) => r.peakRssMb))),
        latency:
          latency.length > 0
            ? {
                p50Ms: Math.round(median(latency.map((l) => l.p50Ms))),
                p99Ms: Math.round(median(latency.map((l) => l.p99Ms))),
                maxMs: Math.max(...latency.map((l) => l.maxMs)),
                unseen: latency.reduce((sum, l) => sum + l.unseen, 0),
              }
            : undefined,
        toAtLeastOnce: ratio(recordsPerSecond.median, medianRate(c.atLeastOnce ?? AT_LEAST_ONCE_PLATFORMATIC)),
        toKafkaStreams: ratio(recordsPerSecond.median, medianRate(KAFKA_STREAMS)),
        toCeiling: ratio(recordsPerSecond.median, ceiling?.recordsPerSecond.median),
      };
    });
  return {
    partitions: result.partitions,
    records: result.records,
    rate: result.rate,
    rateSource: result.rateSource,
    rows,
    ceiling,
  };
}
