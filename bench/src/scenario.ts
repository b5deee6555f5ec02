// One partition count: write the input once, run the throughput phase (every contender and the ceiling, runs
// interleaved), then the latency phase at a rate derived from it.
import { generateRecords } from '@exactly/testkit';
import { type CeilingMeasurement, measureCeiling } from './ceiling.js';
import { AT_LEAST_ONCE, AT_LEAST_ONCE_PLATFORMATIC } from './contenders.js';
import { type LatencyMeasurement, measureLatency } from './latency.js';
import type { BenchOptions } from './options.js';
import { median } from './stats.js';
import type { ScenarioResult } from './summary.js';
import type { BenchPostgres } from './tables.js';
import { measureThroughput, type ThroughputMeasurement } from './throughput.js';
import { createTopics, deleteTopics, uniqueName } from './topics.js';

export interface ScenarioContext {
  readonly brokers: string;
  /** The local broker's log directories, where output sizes on disk are read; empty for another broker. */
  readonly logDirs: readonly string[];
  /** Kafka's jars (for the ceiling's tools). */
  readonly kafkaLibs: string;
  readonly options: BenchOptions;
  readonly log: (line: string) => void;
  /** The run's PostgreSQL, when a contender has tables (`--postgres`). */
  readonly postgres?: BenchPostgres;
}

export async function runScenario(partitions: number, context: ScenarioContext): Promise<ScenarioResult> {
  const { brokers, options, log } = context;
  const tag = `[${partitions} partitions]`;
  const input = uniqueName(`input-${partitions}p`);
  await createTopics(brokers, [input], partitions);
  const throughput = new Map<string, ThroughputMeasurement[]>(options.contenders.map((c) => [c.name, []]));
  const ceiling: CeilingMeasurement[] = [];
  try {
    const started = Date.now();
    await generateRecords({
      brokers,
      topic: input,
      count: options.records,
      padding: 1000,
      chunk: 500,
      ...(options.keys === undefined ? {} : { keys: options.keys }),
      // Compression is measured on records that compress as real JSON text does, not on one repeated letter.
      ...(options.compression ? { paddingKind: 'words' as const } : {}),
    });
    log(`${tag} wrote ${options.records} input records in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    for (let run = 1; run <= options.runs; run++) {
      for (const contender of options.contenders) {
        const m = await measureThroughput(contender, brokers, input, options.records, partitions, options.workload, {
          logDirs: context.logDirs,
          ...(context.postgres ? { postgres: context.postgres } : {}),
        });
        throughput.get(contender.name)?.push(m);
        const rows = m.rows
          ? `  rows ${m.rows.left === undefined ? '' : `${m.rows.left} left, `}${m.rows.right} right`
          : '';
        const pgCpu =
          m.postgresCpuSecondsPer100k === undefined ? '' : `  PostgreSQL ${m.postgresCpuSecondsPer100k} CPU s/100k`;
        log(
          `${tag} throughput ${run}/${options.runs} ${contender.name.padEnd(14)} ${String(m.recordsPerSecond).padStart(7)} rec/s  ${m.cpuSecondsPer100k} CPU s/100k  ${m.peakRssMb} MB  ${m.seconds} s  ${m.outputs} outputs${rows}${pgCpu}  ${m.outputMbOnDisk ?? '-'} MB output on disk  (${m.executable})`,
        );
      }
      if (options.ceiling) {
        const c = await measureCeiling(brokers, context.kafkaLibs, input, options.records, partitions);
        ceiling.push(c);
        log(
          `${tag} throughput ${run}/${options.runs} ${'ceiling'.padEnd(14)} ${String(c.recordsPerSecond).padStart(7)} rec/s  (producer ${c.producerRecordsPerSecond}, consumer ${c.consumerRecordsPerSecond})`,
        );
      }
    }
  } finally {
    await deleteTopics(brokers, [input]).catch(() => undefined);
  }

  const { rate, rateSource } = latencyRate(options.rate, throughput);
  // The latency phase reads LEFT as a topic, and makes no tables: contenders with tables are left out of it.
  const timed = options.contenders.filter((c) => !c.postgres);
  const latency = new Map<string, LatencyMeasurement[]>(timed.map((c) => [c.name, []]));
  for (let run = 1; rate > 0 && run <= options.latencyRuns; run++) {
    for (const contender of timed) {
      const m = await measureLatency(contender, brokers, partitions, {
        rate,
        seconds: options.latencySeconds,
        warmupSeconds: options.warmupSeconds,
      });
      latency.get(contender.name)?.push(m);
      log(
        `${tag} latency ${run}/${options.latencyRuns} ${contender.name.padEnd(14)} at ${m.sentPerSecond} rec/s: p50 ${m.p50Ms} ms  p99 ${m.p99Ms} ms  max ${m.maxMs} ms  (${m.samples} samples, ${m.unseen} unseen, ${m.warmupSeconds} s warm-up; generator and reader: loop busy ${m.benchLoopBusy}, ${m.benchCores} cores)`,
      );
    }
  }
  return {
    partitions,
    records: options.records,
    rate,
    rateSource,
    throughput: Object.fromEntries(throughput),
    latency: Object.fromEntries(latency),
    ceiling,
  };
}

/**
 * --rate, else half the default client's at-least-once baseline's median (the KafkaJS one's when that is not
 * run), else half the slowest contender's median.
 */
function latencyRate(
  fixed: number | undefined,
  throughput: ReadonlyMap<string, readonly ThroughputMeasurement[]>,
): { rate: number; rateSource: string } {
  if (fixed !== undefined) return { rate: fixed, rateSource: 'set with --rate' };
  const medians = new Map([...throughput].map(([name, runs]) => [name, median(runs.map((r) => r.recordsPerSecond))]));
  const baseline = medians.get(AT_LEAST_ONCE_PLATFORMATIC) ?? medians.get(AT_LEAST_ONCE);
  if (baseline) return { rate: Math.round(baseline / 2), rateSource: "half the at-least-once baseline's median" };
  const slowest = Math.min(...medians.values());
  if (Number.isFinite(slowest) && slowest > 0)
    return { rate: Math.round(slowest / 2), rateSource: "half the slowest contender's median; at-least-once not run" };
  return { rate: 0, rateSource: 'no contender run' };
}
