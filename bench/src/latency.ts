// Phase 2, end-to-end latency below saturation: records written at a fixed rate into an empty topic while the
// contender runs; for each output on LEFT, (time a read_committed consumer sees it) - (its input's send time).
import { setTimeout as delay } from 'node:timers/promises';
import { ContenderProcess } from './child.js';
import type { Contender } from './contenders.js';
import { LatencyProbe } from './latency-probe.js';
import { RateGenerator } from './rate-generator.js';
import { percentile } from './stats.js';
import { createTopics, deleteTopics, outputTopics, stageEnv } from './topics.js';

export interface LatencyMeasurement {
  readonly contender: string;
  /** The rate asked for, records per second. */
  readonly rate: number;
  /** The rate the generator reached inside the measured window. */
  readonly sentPerSecond: number;
  /** Output records of the measured window seen on LEFT (one per input record). */
  readonly samples: number;
  /** Input records of the measured window whose output was not seen before the drain timeout. */
  readonly unseen: number;
  /** From the switch to the full rate to the window's start: the warm-up, plus catching up if it lagged. */
  readonly warmupSeconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /**
   * The benchmark's own process over the window (generator and reader share its one thread): the share of time
   * its event loop was busy, and the CPU it used in cores. A busy loop delays sends and reads, and so latencies.
   */
  readonly benchLoopBusy: number;
  readonly benchCores: number;
}

export interface LatencyOptions {
  readonly rate: number;
  /** The measured window, after the warm-up. */
  readonly seconds: number;
  /** At least this long at the full rate before the window opens (JIT, producers), and until caught up. */
  readonly warmupSeconds: number;
}

/** Records/s while the contender starts, so that it has no start-up backlog to work off in the window. */
const TRICKLE_RATE = 100;
const FIRST_OUTPUT_TIMEOUT_MS = 120_000;
/** Caught up: every record sent this long ago is visible on LEFT. */
const CAUGHT_UP_MS = 1000;
const CATCH_UP_TIMEOUT_MS = 60_000;
export const DRAIN_TIMEOUT_MS = 30_000;

export async function measureLatency(
  contender: Contender,
  brokers: string,
  partitions: number,
  options: LatencyOptions,
): Promise<LatencyMeasurement> {
  const env = stageEnv(brokers, `${contender.name}-latency`, 'fan-out');
  const topics = [env.BENCH_INPUT, ...outputTopics(env)];
  await createTopics(brokers, [env.BENCH_INPUT], partitions);
  await createTopics(brokers, outputTopics(env), partitions, true);
  const stops: Array<() => Promise<void>> = [];
  try {
    const probe = await LatencyProbe.start(brokers, env.BENCH_LEFT);
    stops.push(() => probe.stop());
    const generator = await RateGenerator.start(brokers, env.BENCH_INPUT, TRICKLE_RATE);
    stops.push(() => generator.stop());
    const child = new ContenderProcess(contender, env);
    stops.push(() => child.stop());

    await waitWhileRunning(child, () => probe.seen > 0, FIRST_OUTPUT_TIMEOUT_MS, 'its first output');
    generator.setRate(options.rate);
    const fullRateAt = Date.now();
    await waitWhileRunning(child, () => false, options.warmupSeconds * 1000);
    // A contender that never catches up is saturated at this rate; it is measured all the same.
    const caughtUp = () => probe.seen >= generator.sentBetween(0, Date.now() - CAUGHT_UP_MS);
    await waitWhileRunning(child, caughtUp, CATCH_UP_TIMEOUT_MS);
    const from = Date.now();
    const loopAtStart = performance.eventLoopUtilization();
    const cpuAtStart = process.cpuUsage();
    await waitWhileRunning(child, () => false, options.seconds * 1000);
    const to = Date.now();
    const benchLoopBusy = performance.eventLoopUtilization(loopAtStart).utilization;
    const cpu = process.cpuUsage(cpuAtStart);
    const benchCores = (cpu.user + cpu.system) / 1000 / (to - from);
    await generator.stop();
    const total = generator.total;
    await waitWhileRunning(child, () => probe.seen >= total, DRAIN_TIMEOUT_MS);

    const sent = generator.sentBetween(from, to);
    const latencies = probe.latenciesBetween(from, to).sort((a, b) => a - b);
    return {
      contender: contender.name,
      rate: options.rate,
      sentPerSecond: Math.round(sent / ((to - from) / 1000)),
      samples: latencies.length,
      unseen: Math.max(0, sent - latencies.length),
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.at(-1) ?? 0,
      warmupSeconds: Number(((from - fullRateAt) / 1000).toFixed(1)),
      benchLoopBusy: Number(benchLoopBusy.toFixed(2)),
      benchCores: Number(benchCores.toFixed(2)),
    };
  } finally {
    // The contender first (a graceful stop), then the generator and the reader.
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await deleteTopics(brokers, topics).catch(() => undefined);
  }
}

/**
 * Waits until `done()` or `ms` have passed, failing at once if the contender dies. With a `what`, running out
 * of time is an error; without, it is the normal end of a timed wait.
 */
async function waitWhileRunning(child: ContenderProcess, done: () => boolean, ms: number, what?: string) {
  const deadline = Date.now() + ms;
  while (!done()) {
    child.assertRunning();
    if (Date.now() >= deadline) {
      if (what) throw new Error(`${child.contender.name} did not show ${what} within ${ms / 1000} s`);
      return;
    }
    await delay(Math.min(100, Math.max(1, deadline - Date.now())));
  }
}
