// Phase 1, throughput: a contender drains a topic already holding the run's records, as fast as it can.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { groupLag } from '@exactly/testkit';
import { CLOCK_TICKS, ContenderProcess, type ProcessSample, processTreeCpuTicks } from './child.js';
import type { Contender, Workload } from './contenders.js';
import { outputWindow } from './output-window.js';
import { type BenchPostgres, BenchTables, type RowWindow, withTables } from './tables.js';
import { createTopics, deleteTopics, outputTopics, stageEnv } from './topics.js';

export interface ThroughputMeasurement {
  readonly contender: string;
  readonly records: number;
  /** Records read back from LEFT with read_committed, or LEFT's rows for 'tables' (should equal `records`). */
  readonly outputs: number;
  /**
   * Input records fully processed per second, from the first committed output to the last (their append times);
   * for a contender whose LEFT is a table, from its rows' `at` (their insert times).
   */
  readonly recordsPerSecond: number;
  /** CPU seconds (user + system) of the contender's process per 100,000 records, start-up excluded. */
  readonly cpuSecondsPer100k: number;
  readonly peakRssMb: number;
  readonly seconds: number;
  /** The program whose /proc was sampled (/proc/<pid>/exe). */
  readonly executable: string;
  /** Size of LEFT and RIGHT's log segments on the broker's disk (the record batches as written), when local. */
  readonly outputMbOnDisk?: number;
  /** A contender with tables (`--postgres`): the rows committed to each (should equal `records`). */
  readonly rows?: { readonly left?: number; readonly right: number };
  /** CPU seconds of the PostgreSQL server (all its processes) per 100,000 records, over the same span. */
  readonly postgresCpuSecondsPer100k?: number;
}

/** Runs `contender` on `input` (holding `records` records) until its group has committed them all. */
export async function measureThroughput(
  contender: Contender,
  brokers: string,
  input: string,
  records: number,
  partitions: number,
  workload: Workload,
  where: { readonly logDirs: readonly string[]; readonly postgres?: BenchPostgres } = { logDirs: [] },
): Promise<ThroughputMeasurement> {
  const staged = stageEnv(brokers, contender.name, workload, input);
  if (contender.postgres && !where.postgres)
    throw new Error(`${contender.name} needs PostgreSQL (pnpm bench --postgres)`);
  const env = where.postgres ? withTables(staged, contender, where.postgres.url) : staged;
  const outputs = outputTopics(env);
  await createTopics(brokers, outputs, partitions, true);
  const tables = contender.postgres ? await BenchTables.create(env) : undefined;
  try {
    const child = new ContenderProcess(contender, env);
    const pgPid = tables ? where.postgres?.pid : undefined;
    const pgTicks = () => (pgPid === undefined ? undefined : processTreeCpuTicks(pgPid));
    // What is left to commit: the group's lag on Kafka; for 'tables', whose group offsets move only every 5 s,
    // the database's own offsets (committed with the rows).
    const remaining = async (): Promise<number> => {
      if (contender.postgres !== 'tables' || !tables) return groupLag(brokers, env.BENCH_GROUP, input);
      return records - (await tables.committedOffsets(env.BENCH_GROUP, input));
    };
    const pgAtStart = pgTicks(); // the server serves every run: its own count, unlike the contender's, starts before
    let executable = 'unknown';
    let peakRssKb = 0;
    // CPU from the first sample that sees committed progress to the end: the per-record cost, without start-up.
    let first: { sample: ProcessSample; lag: number; pgTicks: number | undefined } | undefined;
    let last: { sample: ProcessSample; pgTicks: number | undefined } | undefined;
    const deadline = Date.now() + 30 * 60_000;
    try {
      for (;;) {
        child.assertRunning();
        if (Date.now() > deadline) throw new Error(`${contender.name} did not finish within 30 minutes`);
        const lag = await remaining().catch(() => records);
        const sample = child.sample();
        if (sample) {
          if (executable === 'unknown') executable = child.executable();
          peakRssKb = Math.max(peakRssKb, sample.peakRssKb);
          last = { sample, pgTicks: pgTicks() };
          if (!first && lag < records) first = { sample, lag, pgTicks: last.pgTicks };
        }
        if (lag <= 0) break;
        await delay(200);
      }
      // 'mixed': Kafka's commit decides, COMMIT PREPARED follows it; the last batch's rows may be a moment behind.
      if (tables && contender.postgres === 'mixed') await rowsReach(tables, tables.right, records, deadline, child);
    } finally {
      await child.stop();
    }
    const rows = tables
      ? {
          ...(tables.left ? { left: await tables.count(tables.left) } : {}),
          right: await tables.count(tables.right),
        }
      : undefined;
    const window: RowWindow =
      tables?.left !== undefined ? await tables.window(tables.left) : await outputWindow(brokers, env.BENCH_LEFT);
    const onDisk = await bytesOnDisk(where.logDirs, [env.BENCH_LEFT, env.BENCH_RIGHT]);
    const seconds = Math.max(0.001, (window.last - window.first) / 1000);
    const start = first && first.lag > 0 ? first : undefined;
    const cpuTicks = start && last ? last.sample.cpuTicks - start.sample.cpuTicks : (last?.sample.cpuTicks ?? 0);
    const cpuRecords = start ? start.lag : records;
    const pgCpuTicks =
      last?.pgTicks === undefined
        ? undefined
        : start?.pgTicks !== undefined
          ? last.pgTicks - start.pgTicks
          : last.pgTicks - (pgAtStart ?? 0);
    const per100k = (ticks: number) => Number(((ticks / CLOCK_TICKS / cpuRecords) * 100_000).toFixed(2));
    return {
      contender: contender.name,
      records,
      outputs: window.count,
      recordsPerSecond: Math.round(window.count / seconds),
      cpuSecondsPer100k: per100k(cpuTicks),
      peakRssMb: Math.round(peakRssKb / 1024),
      seconds: Number(seconds.toFixed(1)),
      executable,
      ...(onDisk === undefined ? {} : { outputMbOnDisk: Number((onDisk / 1024 / 1024).toFixed(1)) }),
      ...(rows === undefined ? {} : { rows }),
      ...(pgCpuTicks === undefined ? {} : { postgresCpuSecondsPer100k: per100k(pgCpuTicks) }),
    };
  } finally {
    await tables?.close().catch(() => undefined);
    await deleteTopics(brokers, outputs).catch(() => undefined);
    // The count's changelog: Exactly's and Kafka Streams' are both named <group>-<store>-changelog.
    if (workload === 'count') await deleteTopics(brokers, [`${env.BENCH_GROUP}-counts-changelog`]).catch(() => {});
  }
}

/** Waits (polling, until `deadline`) for `table` to hold `records` committed rows. */
async function rowsReach(
  tables: BenchTables,
  table: string,
  records: number,
  deadline: number,
  child: ContenderProcess,
): Promise<void> {
  for (;;) {
    const count = await tables.count(table);
    if (count >= records) return;
    child.assertRunning();
    if (Date.now() > deadline) throw new Error(`${table} holds ${count} rows of ${records} at the deadline`);
    await delay(200);
  }
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
