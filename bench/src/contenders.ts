// Every contender of `pnpm bench`, in one place. To add one, append an entry: a name for --contenders, a label
// for docs/benchmarks.md, and the process to run. The process reads its brokers, topics and group from the
// BENCH_* environment variables (see BenchEnv), does the workload (parse a 1 KB JSON record, emit it to LEFT
// and {"id": id} to RIGHT), and runs until SIGTERM. The benchmark samples CPU and RSS of exactly that process,
// so `command` must be the program itself (node, java), not a wrapper script that starts it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildKafkaStreamsPeer, peerJar } from './kafka-streams-peer.js';

/**
 * What a contender does with each record. 'fan-out': parse a 1 KB JSON record, emit it to LEFT and
 * `{"id": id}` to RIGHT (stateless). 'count': count the records per key in a state store and emit the key's new
 * count to LEFT (a running count: every input, one output), as Kafka Streams' `groupByKey().count()`.
 */
export type Workload = 'fan-out' | 'count';
export const WORKLOADS: readonly Workload[] = ['fan-out', 'count'];

/** What a contender's process finds in its environment. */
export interface BenchEnv {
  readonly BENCH_WORKLOAD: Workload;
  readonly BENCH_BROKERS: string;
  readonly BENCH_INPUT: string;
  readonly BENCH_LEFT: string;
  readonly BENCH_RIGHT: string;
  /** Consumer group (and transactional id prefix / application.id). */
  readonly BENCH_GROUP: string;
  /**
   * Only for a contender with `postgres` (`pnpm bench --postgres`): the database its tables are in, and the
   * tables (created empty by the benchmark before it starts) that take RIGHT's `{id}` and, for 'tables', LEFT's
   * record instead of the topics. Read by `exactly run` (DATABASE_URL) and bench/src/contenders/exactly-postgres.ts.
   */
  readonly DATABASE_URL?: string;
  readonly BENCH_LEFT_TABLE?: string;
  readonly BENCH_RIGHT_TABLE?: string;
}

export interface Command {
  readonly command: string;
  readonly args: readonly string[];
}

export interface Contender {
  /** Its id in --contenders, in the results JSON and in topic names. */
  readonly name: string;
  /** Its row in docs/benchmarks.md. */
  readonly label: string;
  /** One sentence for docs/benchmarks.md: what runs, with which settings. */
  readonly about: string;
  /** Exactly's own contenders: docs/benchmarks.md checks the goals against them. */
  readonly goals: boolean;
  /**
   * The at-least-once baseline its "× at-least-once" compares with: the one on its own client library. Default
   * AT_LEAST_ONCE_PLATFORMATIC (the default adapter's client).
   */
  readonly atLeastOnce?: string;
  /** The workloads it implements. */
  readonly workloads: readonly Workload[];
  /** Run only when named (--contenders) or by `--compression` or `--postgres`, never in a default run. */
  readonly onRequest?: boolean;
  /**
   * Outputs as PostgreSQL tables (`--postgres`): 'mixed', RIGHT is a table and LEFT a topic (two-phase commit);
   * 'tables', both are tables (one PostgreSQL transaction per batch). See bench/src/tables.ts.
   */
  readonly postgres?: 'mixed' | 'tables';
  /** Run once per `pnpm bench` before anything is measured, e.g. a build; only for selected contenders. */
  readonly prepare?: (log: (line: string) => void) => Promise<void>;
  /** The process to start; `env` is also in its environment. */
  readonly command: (env: BenchEnv) => Command;
}

/** The reference rows the ratios are computed against. */
export const AT_LEAST_ONCE = 'at-least-once';
/** The same by hand on @platformatic/kafka: the baseline of the default adapter's "exactly-once ≥ 0.9× at-least-once". */
export const AT_LEAST_ONCE_PLATFORMATIC = 'at-least-once-platformatic';
export const KAFKA_STREAMS = 'kafka-streams';
/** The plain Kafka contender the PostgreSQL ones (`--postgres`) are compared with: the same client, topics only. */
export const PLAIN_KAFKA = 'exactly-platformatic';
/** Exactly's commit interval in the benchmark (its default); the latency goal is this + 50 ms. */
export const COMMIT_INTERVAL_MS = 100;

const path = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));

/** An `exactly run` of `file` (default bench/src/contenders/exactly.ts) with the given client adapter. */
const exactlyRun =
  (client: 'kafkajs' | 'platformatic', extra: () => readonly string[] = () => [], file = './contenders/exactly.ts') =>
  (env: BenchEnv): Command => ({
    command: process.execPath,
    args: [
      path('../../packages/cli/dist/bin.js'),
      'run',
      path(file),
      '--brokers',
      env.BENCH_BROKERS,
      '--client',
      client,
      '--commit-interval',
      String(COMMIT_INTERVAL_MS),
      '--log-level',
      'warn',
      // The count's store needs its changelog topic: created compacted, as a user would with --create-topics.
      ...(env.BENCH_WORKLOAD === 'count' ? ['--create-topics'] : []),
      ...extra(),
    ],
  });

export const contenders: readonly Contender[] = [
  {
    name: 'exactly',
    label: 'Exactly, exactly-once (KafkaJS adapter, default settings)',
    about:
      '`exactly run bench/src/contenders/exactly.ts --client kafkajs`: the runtime with its default settings ' +
      '(commit interval 100 ms, one transactional producer per input partition).',
    goals: true,
    atLeastOnce: AT_LEAST_ONCE,
    workloads: WORKLOADS,
    command: exactlyRun('kafkajs'),
  },
  {
    name: PLAIN_KAFKA,
    label: 'Exactly, exactly-once (platformatic adapter, KIP-447, default settings)',
    about:
      '`exactly run bench/src/contenders/exactly.ts --client platformatic`: the runtime with its default settings ' +
      '(commit interval 100 ms, one transactional producer per instance, one transaction per poll across partitions).',
    goals: true,
    workloads: WORKLOADS,
    command: exactlyRun('platformatic'),
  },
  {
    name: 'exactly-platformatic-local',
    label: 'Exactly, exactly-once (platformatic adapter, stores with a local copy: --state-dir)',
    about:
      'the platformatic contender with `--state-dir` (a fresh directory per run): each commit also writes the ' +
      "changed keys to the stores' local copies (LMDB, synced), so that a restart restores from them.",
    goals: true,
    workloads: ['count'],
    command: exactlyRun('platformatic', () => ['--state-dir', mkdtempSync(join(tmpdir(), 'exactly-bench-state-'))]),
  },
  {
    name: 'exactly-workers',
    label: 'Exactly, exactly-once (platformatic adapter, KIP-447, 2 worker processes: --workers 2)',
    about:
      'the platformatic contender with `--workers 2`: two members of the group, each a process with its own ' +
      'producer, under one supervisor (CPU is summed over the three processes; peak RSS is the largest one).',
    goals: true,
    workloads: WORKLOADS,
    command: exactlyRun('platformatic', () => ['--workers', '2']),
  },
  {
    name: 'exactly-threads',
    label: 'Exactly (platformatic), 2 worker threads in one process (the alternative to worker processes)',
    about:
      'bench/src/contenders/exactly-threads.ts: two worker threads, each running the processor with run() as a ' +
      'member of the group; measured to choose between threads and processes for --workers.',
    goals: false,
    workloads: ['fan-out'],
    onRequest: true,
    command: () => ({ command: process.execPath, args: ['--import', 'tsx', path('./contenders/exactly-threads.ts')] }),
  },
  // `pnpm bench --compression`: the default client with each output codec, to choose the default (snappy).
  ...(['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const).map(
    (codec): Contender => ({
      name: `exactly-platformatic-${codec}`,
      label: `Exactly (platformatic), outputs compressed with ${codec}`,
      about: `the platformatic contender with \`--compression ${codec}\`.`,
      goals: false,
      workloads: ['fan-out'],
      onRequest: true,
      command: exactlyRun('platformatic', () => ['--compression', codec]),
    }),
  ),
  // `pnpm bench --postgres`: PostgreSQL tables as outputs, against the plain Kafka contender (PLAIN_KAFKA).
  {
    name: 'exactly-pg-mixed',
    label: "Exactly (platformatic), RIGHT's {id} as a PostgreSQL row, LEFT a topic: two-phase commit",
    about:
      '`exactly run bench/src/contenders/exactly-postgres.ts --client platformatic` with `BENCH_RIGHT_TABLE`: ' +
      "RIGHT's `{id}` becomes a row of a table, LEFT stays a topic; each batch commits with PREPARE TRANSACTION, " +
      "Kafka's commit and COMMIT PREPARED (docs/postgres.md).",
    goals: false,
    workloads: ['fan-out'],
    onRequest: true,
    postgres: 'mixed',
    command: exactlyRun('platformatic', () => [], './contenders/exactly-postgres.ts'),
  },
  {
    name: 'exactly-pg-tables',
    label: 'Exactly (platformatic), both outputs as PostgreSQL rows: one PostgreSQL transaction per batch',
    about:
      "the same with `BENCH_LEFT_TABLE` too: LEFT's record becomes a row (`id`, `pad`) of a second table, no topic " +
      'output; each batch commits in one PostgreSQL transaction with its offsets, without a Kafka transaction.',
    goals: false,
    workloads: ['fan-out'],
    onRequest: true,
    postgres: 'tables',
    command: exactlyRun('platformatic', () => [], './contenders/exactly-postgres.ts'),
  },
  {
    name: AT_LEAST_ONCE,
    label: 'at-least-once baseline (KafkaJS by hand)',
    atLeastOnce: AT_LEAST_ONCE,
    about:
      'bench/src/contenders/at-least-once.ts: what one writes by hand with KafkaJS, an idempotent producer and ' +
      'offsets committed after the outputs are acknowledged; no transactions.',
    goals: false,
    workloads: ['fan-out'],
    command: () => ({ command: process.execPath, args: ['--import', 'tsx', path('./contenders/at-least-once.ts')] }),
  },
  {
    name: AT_LEAST_ONCE_PLATFORMATIC,
    label: 'at-least-once baseline (@platformatic/kafka by hand)',
    about:
      'bench/src/contenders/at-least-once-platformatic.ts: the same by hand with @platformatic/kafka, the client of ' +
      "Exactly's default adapter: an idempotent producer (acks=all), offsets committed after the outputs are " +
      'acknowledged, fetches and batches sized as Exactly sizes them; no transactions.',
    goals: false,
    workloads: ['fan-out'],
    command: () => ({
      command: process.execPath,
      args: ['--import', 'tsx', path('./contenders/at-least-once-platformatic.ts')],
    }),
  },
  {
    name: KAFKA_STREAMS,
    label: 'Kafka Streams, exactly_once_v2 (Java, 1 stream thread)',
    about:
      'bench/peers/kafka-streams: the reference implementation, Kafka Streams with ' +
      '`processing.guarantee=exactly_once_v2`, commit interval 100 ms, otherwise its defaults (one stream thread).',
    goals: false,
    workloads: WORKLOADS,
    prepare: buildKafkaStreamsPeer,
    command: () => ({ command: 'java', args: ['-jar', peerJar] }),
  },
];
