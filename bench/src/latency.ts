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
  /** From the start of the ramp to the window's start: the warm-up, plus catching up and settling. */
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
  /** The rate rises from a trickle to the full rate over this long (JIT, producers); then until caught up. */
  readonly warmupSeconds: number;
}

/** Records/s while the contender starts, so that it has no start-up backlog to work off in the window. */
const TRICKLE_RATE = 100;
const FIRST_OUTPUT_TIMEOUT_MS = 120_000;
/** Caught up: every record sent this long ago is visible on LEFT (each one, by its id). */
const CAUGHT_UP_MS = 250;
/** The ramp's step: the rate rises this often. */
const RAMP_STEP_MS = 250;
/** Settled: the median latency of the last window of this length is not falling against the one before it. */
const SETTLE_WINDOW_MS = 1000;
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
    const rampStartedAt = Date.now();
    await rampUp(child, generator, options.rate, options.warmupSeconds * 1000);
    await waitWhileRunning(child, () => false, 2 * SETTLE_WINDOW_MS);
    // A contender that never catches up is saturated at this rate; it is measured all the same.
    await waitWhileRunning(child, () => caughtUpAndSettled(probe, generator), CATCH_UP_TIMEOUT_MS);
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
      warmupSeconds: Number(((from - rampStartedAt) / 1000).toFixed(1)),
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
 * Raises the generator's rate from the trickle to `rate` in steps over `ms`. A step from a trickle straight to
 * the full rate met a cold process (V8's or the JVM's JIT not yet at work on the hot paths) with 320 times its
 * input at once: at 32,000 records/s it fell 1.5-4 s behind and worked the backlog off over many seconds.
 */
async function rampUp(child: ContenderProcess, generator: RateGenerator, rate: number, ms: number) {
  const start = Date.now();
  for (let elapsed = 0; elapsed < ms; elapsed = Date.now() - start) {
    generator.setRate(Math.round(TRICKLE_RATE + ((rate - TRICKLE_RATE) * elapsed) / ms));
    await waitWhileRunning(child, () => false, RAMP_STEP_MS);
  }
  generator.setRate(rate);
}

/**
 * Steady state: every record sent a quarter of a second ago is visible, and latency is no longer falling (a
 * backlog being worked off). This once compared counts (outputs seen against records sent a second ago), which
 * let a window open while one worker was a second behind and the other ahead of it, or while a backlog of
 * 0.7-1.6 s drained: that tail then made the window's p99.
 */
function caughtUpAndSettled(probe: LatencyProbe, generator: RateGenerator): boolean {
  const now = Date.now();
  if (probe.allSeenBelow < generator.sentBetween(0, now - CAUGHT_UP_MS)) return false;
  const recent = probe.medianLatencySeenBetween(now - SETTLE_WINDOW_MS, now);
  const before = probe.medianLatencySeenBetween(now - 2 * SETTLE_WINDOW_MS, now - SETTLE_WINDOW_MS);
  if (recent === undefined || before === undefined) return false;
  // Falling by less than a fifth, or by less than a few milliseconds, is noise.
  return recent >= before * 0.8 || before - recent < 20;
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
