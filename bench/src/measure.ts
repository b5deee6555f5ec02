import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { consumeToEnd, createTopics, generateRecords, groupLag } from '@exactly/testkit';

export interface Contender {
  readonly name: string;
  readonly label: string;
  /** Arguments for `node`; the contender reads its topics from BENCH_* environment variables. */
  readonly args: (brokers: string) => string[];
}

export interface Measurement {
  readonly contender: string;
  readonly records: number;
  /** Input records fully processed per second, from the first committed output to the last (their timestamps). */
  readonly recordsPerSecond: number;
  /** CPU seconds (user + system) of the contender's process per 100,000 records. */
  readonly cpuSecondsPer100k: number;
  readonly peakRssMb: number;
  readonly seconds: number;
}

const CLOCK_TICKS = 100; // Linux's USER_HZ

/** Runs one contender on fresh topics holding `records` 1 KB JSON records, until its group has no lag. */
export async function measure(
  contender: Contender,
  brokers: string,
  records: number,
  partitions: number,
): Promise<Measurement> {
  const id = `bench-${contender.name}-${Date.now().toString(36)}`;
  const topics = { BENCH_GROUP: id, BENCH_INPUT: `${id}.in`, BENCH_LEFT: `${id}.left`, BENCH_RIGHT: `${id}.right` };
  await createTopics(
    brokers,
    [topics.BENCH_INPUT, topics.BENCH_LEFT, topics.BENCH_RIGHT, `${id}.dlq`].map((name) => ({ name, partitions })),
  );
  await generateRecords({ brokers, topic: topics.BENCH_INPUT, count: records, padding: 1000, chunk: 500 });

  const child = spawn(process.execPath, contender.args(brokers), {
    env: { ...process.env, ...topics, BENCH_BROKERS: brokers },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let peakRssKb = 0;
  let cpuTicks = 0;
  const deadline = Date.now() + 30 * 60_000;
  try {
    // Done when the group has committed everything; the time window comes from the outputs afterwards.
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${contender.name} exited early:\n${errors.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`${contender.name} did not finish within 30 minutes`);
      const sample = sampleProcess(child.pid ?? 0);
      if (sample) {
        peakRssKb = Math.max(peakRssKb, sample.rssKb);
        cpuTicks = sample.cpuTicks;
      }
      if ((await groupLag(brokers, id, topics.BENCH_INPUT).catch(() => records)) === 0) break;
      await delay(200);
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  const window = await outputWindow(brokers, topics.BENCH_LEFT);
  const seconds = Math.max(0.001, (window.last - window.first) / 1000);
  return {
    contender: contender.name,
    records,
    recordsPerSecond: Math.round(window.count / seconds),
    cpuSecondsPer100k: Number(((cpuTicks / CLOCK_TICKS / records) * 100_000).toFixed(2)),
    peakRssMb: Math.round(peakRssKb / 1024),
    seconds: Number(seconds.toFixed(1)),
  };
}

/** First and last timestamp (the producer's CreateTime) among a topic's committed records, and their count. */
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

function sampleProcess(pid: number): { rssKb: number; cpuTicks: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { rssKb, cpuTicks: Number(fields[11]) + Number(fields[12]) }; // utime, stime
  } catch {
    return undefined;
  }
}
