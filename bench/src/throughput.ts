// Phase 1, throughput: a contender drains a topic already holding the run's records, as fast as it can.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { consumeToEnd, groupLag } from '@exactly/testkit';
import { CLOCK_TICKS, ContenderProcess, type ProcessSample } from './child.js';
import type { Contender, Workload } from './contenders.js';
import { createTopics, deleteTopics, outputTopics, stageEnv } from './topics.js';

export interface ThroughputMeasurement {
  readonly contender: string;
  readonly records: number;
  /** Records read back from LEFT with read_committed (should equal `records`). */
  readonly outputs: number;
  /** Input records fully processed per second, from the first committed output to the last (their append times). */
  readonly recordsPerSecond: number;
  /** CPU seconds (user + system) of the contender's process per 100,000 records, start-up excluded. */
  readonly cpuSecondsPer100k: number;
  readonly peakRssMb: number;
  readonly seconds: number;
  /** The program whose /proc was sampled (/proc/<pid>/exe). */
  readonly executable: string;
  /** Size of LEFT and RIGHT's log segments on the broker's disk (the record batches as written), when local. */
  readonly outputMbOnDisk?: number;
}

/** Runs `contender` on `input` (holding `records` records) until its group has committed them all. */
export async function measureThroughput(
  contender: Contender,
  brokers: string,
  input: string,
  records: number,
  partitions: number,
  workload: Workload,
  where: { readonly logDirs: readonly string[] } = { logDirs: [] },
): Promise<ThroughputMeasurement> {
  const env = stageEnv(brokers, contender.name, workload, input);
  const outputs = outputTopics(env);
  await createTopics(brokers, outputs, partitions, true);
  try {
    const child = new ContenderProcess(contender, env);
    let executable = 'unknown';
    let peakRssKb = 0;
    // CPU from the first sample that sees committed progress to the end: the per-record cost, without start-up.
    let first: { sample: ProcessSample; lag: number } | undefined;
    let last: ProcessSample | undefined;
    const deadline = Date.now() + 30 * 60_000;
    try {
      for (;;) {
        child.assertRunning();
        if (Date.now() > deadline) throw new Error(`${contender.name} did not finish within 30 minutes`);
        const lag = await groupLag(brokers, env.BENCH_GROUP, input).catch(() => records);
        const sample = child.sample();
        if (sample) {
          if (executable === 'unknown') executable = child.executable();
          peakRssKb = Math.max(peakRssKb, sample.peakRssKb);
          last = sample;
          if (!first && lag < records) first = { sample, lag };
        }
        if (lag === 0) break;
        await delay(200);
      }
    } finally {
      await child.stop();
    }
    const window = await outputWindow(brokers, env.BENCH_LEFT);
    const onDisk = await bytesOnDisk(where.logDirs, [env.BENCH_LEFT, env.BENCH_RIGHT]);
    const seconds = Math.max(0.001, (window.last - window.first) / 1000);
    const cpuTicks = first && last && first.lag > 0 ? last.cpuTicks - first.sample.cpuTicks : (last?.cpuTicks ?? 0);
    const cpuRecords = first && first.lag > 0 ? first.lag : records;
    return {
      contender: contender.name,
      records,
      outputs: window.count,
      recordsPerSecond: Math.round(window.count / seconds),
      cpuSecondsPer100k: Number(((cpuTicks / CLOCK_TICKS / cpuRecords) * 100_000).toFixed(2)),
      peakRssMb: Math.round(peakRssKb / 1024),
      seconds: Number(seconds.toFixed(1)),
      executable,
      ...(onDisk === undefined ? {} : { outputMbOnDisk: Number((onDisk / 1024 / 1024).toFixed(1)) }),
    };
  } finally {
    await deleteTopics(brokers, outputs).catch(() => undefined);
    // The count's changelog: Exactly's and Kafka Streams' are both named <group>-<store>-changelog.
    if (workload === 'count') await deleteTopics(brokers, [`${env.BENCH_GROUP}-counts-changelog`]).catch(() => {});
  }
}

/** First and last timestamp (the broker's LogAppendTime) among a topic's committed records, and their count. */
async function outputWindow(brokers: string, topic: string): Promise<{ first: number; last: number; count: number }> {
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  let count = 0;
  await consumeToEnd(
    brokers,
    topic,
    { isolation: 'read_committed', timeoutMs: 300_000, clientId: 'exactly-bench' },
    (batch) => {
      for (const message of batch.messages) {
        const at = Number(message.timestamp);
        if (at < first) first = at;
        if (at > last) last = at;
        count += 1;
      }
    },
  );
  return { first, last, count };
}

/** Bytes of the topics' `.log` segment files under the broker's log directories; undefined without any. */
async function bytesOnDisk(logDirs: readonly string[], topics: readonly string[]): Promise<number | undefined> {
  if (logDirs.length === 0) return undefined;
  let total = 0;
  for (const dir of logDirs) {
    for (const entry of await readdir(dir).catch(() => [] as string[])) {
      if (!topics.some((topic) => entry.startsWith(`${topic}-`) && /^\d+$/.test(entry.slice(topic.length + 1))))
        continue;
      for (const file of await readdir(join(dir, entry))) {
        if (file.endsWith('.log')) total += (await stat(join(dir, entry, file))).size;
      }
    }
  }
  return total;
}
