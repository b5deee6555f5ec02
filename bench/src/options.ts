// The flags of `pnpm bench`, and the defaults of a full and a quick run.
import { parseArgs } from 'node:util';
import { type Contender, contenders, PLAIN_KAFKA, WORKLOADS, type Workload } from './contenders.js';
import { BENCHMARKS_DOC } from './doc-blocks.js';

export interface BenchOptions {
  readonly quick: boolean;
  /** What each record costs (see Workload); 'count' measures throughput only. */
  readonly workload: Workload;
  /** Distinct input keys ('count'); undefined: every record its own key. */
  readonly keys: number | undefined;
  /** Records in the throughput phase's input, per partition count. */
  readonly records: number;
  readonly partitions: readonly number[];
  readonly runs: number;
  readonly latencyRuns: number;
  readonly contenders: readonly Contender[];
  /** Whether to measure the broker's ceiling (the pseudo-contender "ceiling"). */
  readonly ceiling: boolean;
  /** The latency phase's rate; undefined: half the at-least-once baseline's median throughput. */
  readonly rate: number | undefined;
  readonly latencySeconds: number;
  readonly warmupSeconds: number;
  /** `--compression`: the default client with each output codec, on input that compresses like real JSON. */
  readonly compression: boolean;
  /**
   * `--postgres`: PostgreSQL tables as outputs (the contenders with `postgres`) against the plain Kafka contender
   * (PLAIN_KAFKA); the benchmark starts a local PostgreSQL for the run.
   */
  readonly postgres: boolean;
  /** The page the run writes (`--doc`): docs/benchmarks.md unless set, e.g. to try a change on a copy. */
  readonly doc: string;
  /** `--compare <earlier.json>`: after the run, each contender's change against that earlier result. */
  readonly compare: string | undefined;
}

export const USAGE = `usage: pnpm bench [--quick] [--workload fan-out|count [--keys n]] [--compression | --postgres] [--partitions 6,24,96] [--runs n]
                  [--records n] [--contenders ${[...contenders.map((c) => c.name), 'ceiling'].join(',')}]
                  [--rate records/s] [--latency-seconds n] [--doc path (default docs/benchmarks.md)]
                  [--compare bench/results/<earlier>.json [--to bench/results/<later>.json (no run)]]`;

export function parseOptions(args: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      quick: { type: 'boolean', default: false },
      workload: { type: 'string', default: 'fan-out' },
      keys: { type: 'string' },
      records: { type: 'string' },
      partitions: { type: 'string' },
      runs: { type: 'string' },
      contenders: { type: 'string' },
      rate: { type: 'string' },
      'latency-seconds': { type: 'string' },
      compression: { type: 'boolean', default: false },
      postgres: { type: 'boolean', default: false },
      doc: { type: 'string' },
      compare: { type: 'string' },
    },
  });
  const compression = values.compression ?? false;
  const postgres = values.postgres ?? false;
  if (compression && postgres) throw new Error(`--compression and --postgres are separate runs\n${USAGE}`);
  const quick = values.quick ?? false;
  const workload = values.workload as Workload;
  if (!WORKLOADS.includes(workload)) throw new Error(`unknown workload '${values.workload}'\n${USAGE}`);
  const counting = workload === 'count';
  const runs = positive('runs', values.runs ?? '3');
  const able = contenders.filter((c) => c.workloads.includes(workload));
  const codecs = able.filter((c) => c.name.startsWith('exactly-platformatic-') && c.onRequest);
  if (postgres && counting) throw new Error(`--postgres measures the fan-out workload only\n${USAGE}`);
  // The broker's ceiling is a stateless measure: not run with a count.
  const byDefault = compression
    ? codecs.map((c) => c.name)
    : postgres
      ? [PLAIN_KAFKA, ...able.filter((c) => c.postgres).map((c) => c.name)]
      : [...able.filter((c) => !c.onRequest).map((c) => c.name), ...(counting ? [] : ['ceiling'])];
  const names = (values.contenders ?? byDefault.join(',')).split(',').map((name) => name.trim());
  for (const name of names)
    if (name !== 'ceiling' && !able.some((c) => c.name === name))
      throw new Error(`unknown contender '${name}' for workload '${workload}'\n${USAGE}`);
  return {
    quick,
    workload,
    keys: counting ? positive('keys', values.keys ?? '10000') : undefined,
    // Full: >= 20 s per contender at up to 50k records/s. Quick: a few seconds each.
    records: positive('records', values.records ?? (quick ? '150000' : compression || postgres ? '500000' : '1000000')),
    partitions: (values.partitions ?? (quick || counting || compression || postgres ? '6' : '6,24,96'))
      .split(',')
      .map((p) => positive('partitions', p)),
    runs,
    // The latency phase reads LEFT as a topic: not run for the special sets (nor, in scenario.ts, for tables).
    latencyRuns: counting || compression || postgres ? 0 : quick ? 1 : runs,
    contenders: able.filter((c) => names.includes(c.name)),
    ceiling: !counting && names.includes('ceiling'),
    rate: values.rate === undefined ? undefined : positive('rate', values.rate),
    latencySeconds: positive('latency-seconds', values['latency-seconds'] ?? (quick ? '6' : '20')),
    // The latency phase's ramp to the full rate, under which V8's and the JVM's JIT warm up.
    warmupSeconds: quick ? 5 : 10,
    compression,
    postgres,
    doc: values.doc ?? BENCHMARKS_DOC,
    compare: values.compare,
  };
}

function positive(flag: string, value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0)
    throw new Error(`--${flag} must be a positive integer, got '${value}'\n${USAGE}`);
  return parsed;
}
