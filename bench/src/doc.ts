// docs/benchmarks.md, written by every `pnpm bench` from the run's summaries.

import { COMMIT_INTERVAL_MS, type Contender, KAFKA_STREAMS, PLAIN_KAFKA } from './contenders.js';
import { keptBlock } from './doc-blocks.js';
import { DRAIN_TIMEOUT_MS } from './latency.js';
import { rabbitmqSection } from './rabbitmq/queue-bench.js';
import { median } from './stats.js';
import type { ContenderRow, ScenarioResult, ScenarioSummary, Spread } from './summary.js';

export interface DocMeta {
  /** The page as it stood: the State section's blocks, written by other commands, are kept from it. */
  readonly previous: string;
  readonly command: string;
  readonly date: string;
  readonly quick: boolean;
  /** One sentence: records, runs, machine. */
  readonly setup: string;
  readonly versions: string;
  readonly latencySeconds: number;
  readonly warmupSeconds: number;
}

const LATENCY_GOAL_MS = COMMIT_INTERVAL_MS + 50;
const n = (value: number) => value.toLocaleString('en-US');
const x = (ratio: number | undefined) => (ratio === undefined ? '-' : ratio.toFixed(2));
const range = (s: Spread) => `${n(s.min)} – ${n(s.max)}`;

/** What a full run saves in bench/results/<date>.json, as far as its page needs it. */
export interface SavedFullRun {
  readonly date: string;
  readonly command: string;
  readonly setup: string;
  readonly versions: string;
  readonly options: { readonly quick: boolean; readonly latencySeconds: number; readonly warmupSeconds: number };
  readonly summaries: readonly ScenarioSummary[];
}

/** The page of a saved full run, around `previous`'s kept blocks: written by the run, and again by bench:doc. */
export function fullRunPage(saved: SavedFullRun, contenders: readonly Contender[], previous: string): string {
  return benchmarksDoc(saved.summaries, contenders, {
    previous,
    command: saved.command,
    date: saved.date,
    quick: saved.options.quick,
    setup: saved.setup,
    versions: saved.versions,
    latencySeconds: saved.options.latencySeconds,
    warmupSeconds: saved.options.warmupSeconds,
  });
}

export function benchmarksDoc(
  summaries: readonly ScenarioSummary[],
  contenders: readonly Contender[],
  meta: DocMeta,
): string {
  return `# Benchmarks

\`pnpm bench\` runs every contender side by side in one run: on the same broker and machine, on the same
records, interleaved (A, B, C, A, B, C, ...), so that the *ratios* mean something on a shared machine whose
absolute speed drifts from run to run. Flags: \`--quick\`, \`--partitions 6,24,96\`, \`--runs n\`,
\`--records n\`, \`--contenders ${[...contenders.map((c) => c.name), 'ceiling'].join(',')}\`, \`--rate n\`,
\`--latency-seconds n\`, \`--workload count\` (the stateful workload; see State), \`--compression\` and \`--postgres\`
(their own sections), \`--doc path\` (write another copy of this page). Each run writes \`bench/results/<timestamp>.json\` (every measurement) and this page.

${meta.quick ? '**This page is from a quick run (`--quick`): fewer records, shorter latency phases, one latency run. Indicative only; `pnpm bench` gives the numbers to quote.**\n\n' : ''}## Where we stand against the goals

${goalsTable(summaries)}

## Results

${meta.setup}

${summaries.map(scenarioSection).join('\n\n')}

Command: \`${meta.command}\` (${meta.date}). ${meta.versions}.

## Where the time goes (profiles)

\`pnpm bench:profile\` runs the default contender (\`exactly run bench/src/contenders/exactly.ts\`, platformatic,
one process) under \`node --cpu-prof\` over 1,000,000 records of ~1 KB until its group has caught up, on one
broker on the same 2 cores, and sorts the samples by where they fell (2026-12-01, after the change below). Share
of the process's samples:

| | 6 partitions | 96 partitions |
|---|---|---|
| the workload's JSON parse and stringify (the \`json()\` serde; Kafka Streams' Jackson does the same) | 17.9% | 19.8% |
| the rest of our pipeline (\`@exactly/core\`: decode, handle, encode) | 4.9% | 4.9% |
| the engine and the adapter (\`@exactly/runtime\`, with the produce requests it now writes) | 8.4% | 8.9% |
| the client (\`@platformatic/kafka\`, its buffers and codecs) | 16.0% | 19.8% |
| Node's buffers, streams and builtins (\`Buffer.concat\` of requests and answers, allocation, UTF-8) | 13.1% | 12.1% |
| garbage collection | 6.9% | 6.6% |
| idle: waiting for the broker | 30.4% | 24.4% |

The rest (2–4%) is the contender's own file, V8 and prom-client. Against the profile of 2026-11-30, the client
and Node's buffer work under it fell from 43.9% to 29.1% of the samples at 6 partitions, while the adapter's
share rose by 4.3 points with the requests it now writes itself (item 4 below).

**Removed so far** (\`pnpm bench:profile\` at 6 partitions, 1,000,000 records under the profiler: 28.2 s before
the first three, 24.2 s after):

1. **A promise per step and per record.** The record pipeline runs synchronously while the serdes and the
   handler do (JSON, strings, bytes, a plain function); a promise comes back only from a step that gave one
   (an Avro serde, an async handler). \`runMicrotasks\` was 2.9% of the samples, and each step's async frame
   more.
2. **The client's murmur2 in BigInt arithmetic**: 4% of the samples, and garbage, to pick a keyed record's
   partition. The adapter gives the client a partitioner with Kafka's murmur2 in 32-bit arithmetic: the same
   partitions (tested against Kafka's own test values and against the client's partitioner).
3. **Reshaping every produced message** (conditional spreads, a header map for records without headers).
4. **The client's produce request building** (about a quarter of the samples, with the buffer work under it, in
   the profile of 2026-11-30): per record a writer with a dynamic buffer of small Buffers (one per varint) and a
   BigInt timestamp, then \`Buffer.concat\` before the CRC32C and again before the socket. The adapter now
   writes Produce v11 requests itself, in one pass (\`adapters/platformatic/produce-request.ts\`: the batches'
   sizes first, then each batch's records into one Buffer), byte for byte the client's request (a unit test
   compares them for every codec, tombstones, headers and 20,000-record batches), and hands it to the client
   through the client's own API lookup, so its retries, sequence numbers and response parsing are unchanged.
   Side by side (\`pnpm bench:profile --records 500000 --no-profile\`, 6 partitions, 3 interleaved runs each,
   2026-12-01): one process caught up in 9.3–10.1 s against 11.2–13.9 s with the client's builder; two workers
   in 8.8–11.8 s against 9.4–11.8 s (there the broker's share of the two cores sets the pace). Ready to offer
   upstream: it takes the client's builder's arguments.

The KafkaJS producer's quadratic grouping of a send's messages by partition (8% of that adapter's samples in
the profile of 2026-11-25) is gone too: the send that \`@exactly/read-committed\` loads in place of KafkaJS's
(for its lost-partition fix) groups in one pass.

**What is left, by size:**

1. **The workload's JSON** (17.9% at 6 partitions): parsing and writing 1 KB of JSON twice per record is
   the work itself; Kafka Streams does the same with Jackson.
2. **The client's work per message outside the request bytes**: its producer copies every message into an
   object of its own with two header maps, and keys it by a \`topic:partition\` string for the sequence numbers
   and again for the transaction's partitions; its consumer makes an object per record with BigInt offsets and
   timestamps, from a record object with BigInt deltas. A change for upstream.
3. **Idle** (one process): the steps of a transaction wait for the broker in turn. Workers fill the wait
   ([workers](workers.md)): in the run above two workers reach 1.29×, 1.51× and 1.24× Kafka Streams at 6, 24
   and 96 partitions, with less CPU per record, where one process is at 1.06×, 1.14× and 1.04×. Exactly's
   outputs are snappy-compressed by default (about 70 MB on the broker's disk per run against 1 GB for the
   others): part of the lead is less for the broker to write.
4. **Memory** (the page's peak RSS): 148 MB idle (Node, tsx, the modules); under load 398–402 MB for one process
   and 301–310 MB per worker in the run above (425–478 and 336–377 MB in the run of 2026-12-01, before the
   consumer made fetched records ours on arrival and fetched about one poll's worth at a time). What is
   *live* is small: with \`--trace-gc\` the heap after each full collection is 42–69 MB
   (\`pnpm bench:profile --records 1000000 --no-profile --node-flags="--trace-gc" --stdout gc.txt\`, 2026-12-01). The rest is
   garbage waiting: a batch's records outlive a few scavenges (they wait for their transaction), so they reach
   the old generation, which V8 lets grow to ~3× the live heap before a full collection, and the Buffers those
   records hold (fetch answers, produce requests) are freed only then. Measured side by side (1M records, 6
   partitions, interleaved runs, 2026-12-01):

   | flags | peak RSS | time to catch up |
   |---|---|---|
   | Node's default young generation (32 MB semi-spaces) | 451–488 MB | 19.1–27.3 s |
   | \`--max-semi-space-size=16\` | 378–412 MB | 19.5–23.2 s |
   | \`--max-semi-space-size=8\` | 382–391 MB | 19.8–22.1 s |
   | \`--max-semi-space-size=8 --heap-growing-percent=20\` | 266 MB | 25.8–27.9 s |

   So **workers start with \`--max-semi-space-size=8\`** (unless the program's own flags or \`NODE_OPTIONS\` size
   the heap): with 2 workers, 344–358 MB per worker against 383–437 MB with 32 MB semi-spaces, in the same
   time (15.4–16.2 s against 15.6–16.8 s). One process (no workers) cannot change it once started: set
   \`NODE_OPTIONS=--max-semi-space-size=8\` ([operations](operations.md#sizing)). Below that, the heap's growth
   factor trades memory for time (the last row), and smaller fetches gave 30–40 MB (1 MiB → 256 KiB per
   partition, 16 → 4 MiB per fetch), within the noise in time: the way to 250 MB is fewer allocations per
   record (item 2, and our own records), not settings. Not changed: 5,000 or 1,000 records per transaction
   (\`--run-args "--max-batch 1000"\`) left the peak where it was (413–465 MB); glibc's malloc settings
   (arena count, trim and mmap thresholds) did not move it either. Measured after the run above (2026-12-02,
   \`pnpm bench:profile --records 1000000 --workers 2 --no-profile [--partitions 96] --node-flags "..."\`, three
   interleaved runs each): the old generation's growth fixed at 100% of what a full collection leaves
   (\`--heap-growing-percent=100\`, with the workers' 8 MB semi-spaces) gave 242–276 MB per worker at 6 partitions
   and 253–270 MB at 96, against 311–337 and 332–343 MB with V8's own factor; but at 6 partitions it took
   17.8–23.6 s against 17.0–17.6 s (median +20%), about the whole of the lead over Kafka Streams there, so it is
   an option ([operations](operations.md#sizing)), not the default. 50% gave 222–238 MB in 20.7–24.6 s;
   \`--optimize-for-size\` 162–164 MB in 37–41 s. A TypeScript processor is run by Node's own type stripping where
   Node can (since 2026-12-02): 147 MB idle against 154 MB through tsx (and esbuild's own 13 MB process).
   Where the bytes go (\`pnpm bench:profile --records 500000 --workers 2 --alloc\`: V8's sampling heap profiler
   with collected objects counted, 2026-12-02): 9.9 KB allocated per 1 KB record. The JSON itself: the input
   decoded to a string (1.1 KB), JSON.parse's objects, the outputs' JSON strings (1.6 KB in \`encode\`) and their
   Buffers; the client's objects: its consumer's message per record (0.8 KB) and, in its producer's \`send\`,
   two Maps per message whether it has headers or not (0.9 KB per record); ours: the decoded and handled
   records (1.3 KB in \`runPipeline\`, inlined), the encoded outputs and the messages for the client. The
   strings die young; what waits for its transaction (the client's messages and Maps, our records, the
   outputs) is the ~3 KB per record that --trace-gc sees promoted, and the way under 250 MB: the producer's
   Maps (a patch to the client) and one object per output from the handler to the produce request.
5. **Latency**: measured in a steady state since 2026-12-02 (see How it measures). At 6 and 24 partitions
   one process's p99 is 69 and 109 ms, two workers' 71 and 134 ms, Kafka Streams' 154 and 331 ms. The 294 and
   485 ms reported for workers on 2026-12-01 were mostly the benchmark's own: its window opened while a
   start-up backlog drained. At 96 partitions the goal is not met (one process 301 ms, two workers 546 ms,
   their three runs 226–611 ms; Kafka Streams 253 ms). A lead, not a finding: each worker commits a
   transaction per fetch answer, and each touches every output partition (keys spread over all of them), so two
   workers double the broker's transaction markers. Found after the run: at 96 partitions a transaction often
   met CONCURRENT_TRANSACTIONS (the broker still writing the previous one's markers) for longer than the client's
   seven 10 ms retries, and was aborted and redone, about once a second per worker; those stalls made the tail.
   Since 2026-12-02 a busy coordinator is waited for instead (up to half the transaction timeout): quick runs at
   this rate (\`pnpm bench --quick --records 20000 --partitions 96 --contenders exactly-workers --rate 22950
   --latency-seconds 20\`) gave p99 414–833 ms in seven runs without a retriable abort, against 688 and 1,713 ms
   (14 aborts in one) before; an eighth, on a broker left holding ~3,000 partitions of earlier runs, 2,616 ms
   (one transaction took 2.5 s). A transaction took 38 ms at the median and 172 ms at p99, most of it the
   produce with its AddPartitionsToTxn. Not the reader's decompression: \`--compression none\` gave 434–753 ms
   (three runs, interleaved). Nor ours alone: in one quick run of the three side by side, one process 387 ms,
   two workers 489 ms, the hand-written at-least-once baseline 595 ms (262 in the full run). The rest is the broker's: on two shared cores it writes every transaction's markers into
   every partition the transaction touched. The KafkaJS contenders run near their own saturation at
   this rate (half the platformatic baseline's throughput): their p99 measures a backlog, not a latency.

## State

Stores cost a changelog record per changed key in every transaction, and a restore after a crash or a
rebalance. Three measurements, each written here by its own command (\`pnpm bench\` keeps them).

### Stateful throughput: a count per key, against Kafka Streams

${keptBlock(meta.previous, 'count', 'pnpm bench --workload count')}

### Restore after a SIGKILL: a 1,000,000-key store, in memory and with a local copy

${keptBlock(meta.previous, 'restore', 'pnpm bench:state')}

### The local copy's library: LMDB against LevelDB (classic-level)

${keptBlock(meta.previous, 'kv', 'pnpm bench:kv')}

## Output compression

Which codec the outputs get by default (\`compression\`, \`--compression\`): the default client with each
codec, on input records whose 1 KB padding is words (compressing about as real JSON text does). The default is
the codec that keeps throughput within 10% of none and writes the fewest bytes.

${keptBlock(meta.previous, 'compression', 'pnpm bench --compression')}

${postgresSection(keptBlock(meta.previous, 'postgres', 'pnpm bench --postgres'))}

## PostgreSQL clients

The client library of the PostgreSQL participant, chosen by measurement on what it does per batch.

${keptBlock(meta.previous, 'pg-clients', 'pnpm bench:pg')}

## Contenders

${contenders.map((c) => `- **${c.label}** (\`${c.name}\`): ${c.about}`).join('\n')}
- **ceiling** (\`ceiling\`): Apache Kafka's own \`ProducerPerformance\` and \`ConsumerPerformance\` (kafka-tools, the
  broker's version), run with \`java -cp "<kafka libs>/*"\` against the same broker. See below.

## How it measures

- **Workload**: read ~1 KB JSON records \`{"id":…,"pad":"xxx…"}\`, parse each, emit it to topic LEFT and
  \`{"id":…}\` to topic RIGHT. Output topics have as many partitions as the input.
- **Throughput**: per partition count the input topic is written once; every contender, on every run, drains
  that same topic with a fresh group into fresh output topics until its group has committed all of it.
  Records/s = records on LEFT / (last - first output's timestamp), read back with \`read_committed\`; the
  output topics use \`LogAppendTime\`, so the broker stamps every contender's outputs alike (Kafka Streams
  would otherwise copy the input's timestamps).
- **CPU** (seconds per 100k records): user + system time of the contender's process and its child processes
  (a supervisor's workers, with \`--workers\`), from the first sample that sees committed progress to the end, so
  start-up (JVM, tsx) is left out. **Peak RSS**: the VmHWM of the largest of those processes (per worker).
  Both come from \`/proc\` of the process the benchmark spawned itself, without a shell or wrapper: the JVM for
  Kafka Streams, Node for the others (the results JSON records \`/proc/<pid>/exe\` of every run).
- **Latency**: a second phase per contender, on an empty input topic. A generator writes ~1 KB records at a
  fixed rate, a small batch every 10 ms, each carrying its send time in the value (\`sentAt\`, which every
  contender copies to LEFT). A \`read_committed\` consumer of LEFT in the benchmark's process notes, for each
  output, the time it sees it minus \`sentAt\`: the end-to-end latency up to the output being *visible*,
  including the commit interval. While the contender starts, the generator trickles (100 records/s), so there
  is no start-up backlog; once the first output is visible the rate rises in steps to the full rate over
  ${meta.warmupSeconds} s (10 s in a full run, 5 s in a quick one). A step straight to the full rate met cold
  processes (V8's and the JVM's JIT not yet at work) with 320 times their input: at 32,000 records/s they fell
  1.5-4 s behind and took many seconds to catch up. The window opens once the contender is in a steady state:
  every record sent 250 ms earlier is visible (each one, by its \`id\`), and the median latency of the last
  second is not falling against the second before (a backlog being worked off); it lasts ${meta.latencySeconds} s.
  Before 2026-12-02 the window opened when as many outputs were visible as records sent a second earlier: a
  count that let it open while one worker was a second behind and the other ahead, or while a backlog drained,
  and that tail made the p99 (traced: 1.4 s at the window's start, falling to 100 ms over its first 4 s). The
  rate is half of the default client's at-least-once baseline's median throughput at that partition count in
  the same run (\`--rate\` overrides it): below saturation for a contender at least half as fast as the
  baseline. p50 and p99 are medians over the runs, max is the largest seen. Generator and reader share the
  machine with the broker and the contender, so both are kept light: the generator is @platformatic/kafka on a
  thread of its own, the reader (KafkaJS) reads \`sentAt\` in place instead of parsing each value. Before
  (2026-12-01), both ran on KafkaJS on the benchmark's one thread: at 32,000 records/s that thread was busy 100%
  of the window, used a whole core, and fell short of the rate; now about 0.5 of a core at that rate, its loop
  about 25% busy (\`pnpm bench\` prints both).
- **Ceiling**: what the broker takes on this machine, with Kafka's own tools: \`ProducerPerformance\` (1 KB
  records, \`acks=all\`, unthrottled, default producer settings; at least 500,000 records, so that the JVM's
  warm-up does not dominate) into a new topic with the same partition count,
  and \`ConsumerPerformance\` (\`read_committed\`) over the contenders' own input topic, counting fetch time only
  (group join left out). **Ceiling = the lower of the two**: a pipeline must both consume and produce every
  record, so it cannot go faster than either alone. It is a generous bound: a pipeline does both at once on the
  same cores, writes a second (small) record per input and commits transactions, so real pipelines stay well
  below 1.0; the ratio says how much of the raw broker capacity each one turns into processed records.
- **Runs**: the throughput phase runs every contender (and the ceiling) \`--runs\` times, interleaved; then the
  latency phase the same way. Medians are reported with the spread (min – max) of records/s.

${rabbitmqSection(keptBlock(meta.previous, 'rabbitmq', 'pnpm bench --rabbitmq'))}
`;
}

/** The issue's goal against Kafka Streams: 1.1× up to 24 partitions, 1.0× at 96. */
const KAFKA_STREAMS_GOAL = (partitions: number): number => (partitions >= 96 ? 1.0 : 1.1);
/** Peak RSS per process (per worker, with --workers). */
const RSS_GOAL_MB = 250;

function goalsTable(summaries: readonly ScenarioSummary[]): string {
  const subjects = [...new Set(summaries.flatMap((s) => s.rows.filter((r) => r.goals).map((r) => r.name)))];
  if (subjects.length === 0 || summaries.length === 0) return 'No Exactly contender was run.';
  const header = `| goal | ${summaries.map((s) => `${s.partitions} partitions`).join(' | ')} |`;
  const rule = `|---|${summaries.map(() => '---').join('|')}|`;
  const lines: string[] = [];
  for (const name of subjects) {
    const row = (s: ScenarioSummary) => s.rows.find((r) => r.name === name);
    const label = summaries.map(row).find((r) => r)?.label ?? name;
    const cell = (value: number | undefined, met: (v: number) => boolean, shown: (v: number) => string) =>
      value === undefined ? 'not measured' : `${shown(value)}: ${met(value) ? '**met**' : '**not met**'}`;
    const times = (v: number) => `${v.toFixed(2)}×`;
    const ms = (v: number) => `${n(v)} ms`;
    const mb = (v: number) => `${n(v)} MB`;
    const cpu = (v: number) => `${v} s`;
    const streamsCpu = (s: ScenarioSummary) => s.rows.find((r) => r.name === KAFKA_STREAMS)?.cpuSecondsPer100k;
    lines.push(
      `| ${label}: ≥ 0.9× at-least-once on its client | ${summaries.map((s) => cell(row(s)?.toAtLeastOnce, (v) => v >= 0.9, times)).join(' | ')} |`,
      `| ${label}: ≥ ${KAFKA_STREAMS_GOAL(6)}× Kafka Streams EOS (≥ ${KAFKA_STREAMS_GOAL(96)}× at 96 partitions) | ${summaries.map((s) => cell(row(s)?.toKafkaStreams, (v) => v >= KAFKA_STREAMS_GOAL(s.partitions), times)).join(' | ')} |`,
      `| ${label}: CPU per record ≤ Kafka Streams' | ${summaries.map((s) => cell(row(s)?.cpuSecondsPer100k, (v) => v <= (streamsCpu(s) ?? 0), cpu)).join(' | ')} |`,
      `| ${label}: peak RSS ≤ ${RSS_GOAL_MB} MB per process | ${summaries.map((s) => cell(row(s)?.peakRssMb, (v) => v <= RSS_GOAL_MB, mb)).join(' | ')} |`,
      `| ${label}: p99 ≤ ${LATENCY_GOAL_MS} ms (commit interval + 50 ms) at half of saturation | ${summaries.map((s) => cell(row(s)?.latency?.p99Ms, (v) => v <= LATENCY_GOAL_MS, ms)).join(' | ')} |`,
    );
  }
  return [header, rule, ...lines].join('\n');
}

function scenarioSection(s: ScenarioSummary): string {
  const rows = s.rows.map((r) => contenderLine(r, s.rate));
  if (s.ceiling) {
    const c = s.ceiling;
    rows.push(
      `| ceiling: min(producer, consumer) | ${n(c.recordsPerSecond.median)} | ${range(c.recordsPerSecond)} | - | - | 1.00 | - | - | - |`,
    );
  }
  const ceilingNote = s.ceiling
    ? `Ceiling: ProducerPerformance ${n(s.ceiling.producer.median)} records/s (${range(s.ceiling.producer)}; 1 KB, acks=all), ConsumerPerformance ${n(s.ceiling.consumer.median)} records/s (${range(s.ceiling.consumer)}).`
    : 'Ceiling: not measured in this run.';
  const unseen = s.rows.filter((r) => (r.latency?.unseen ?? 0) > 0);
  const saturated = unseen.length
    ? ` Did not keep up at that rate (outputs still missing ${DRAIN_TIMEOUT_MS / 1000} s after the generator stopped): ${unseen.map((r) => `${r.label} (${n(r.latency?.unseen ?? 0)})`).join(', ')}; their latencies are of the outputs that did arrive.`
    : '';
  return `### ${s.partitions} input partitions

${n(s.records)} records per contender per run. Latency at ${n(s.rate)} records/s (${s.rateSource}).${saturated}

| contender | records/s (median) | spread (min – max) | × at-least-once | × Kafka Streams EOS | × ceiling | latency p50 / p99 / max (ms) | CPU s per 100k records | peak RSS (MB) |
|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

${ceilingNote}`;
}

function contenderLine(r: ContenderRow, rate: number): string {
  const latency = r.latency ? `${n(r.latency.p50Ms)} / ${n(r.latency.p99Ms)} / ${n(r.latency.maxMs)}` : '-';
  const slow = r.recordsPerSecond.median < rate ? ' (saturated: slower than the rate)' : '';
  return `| ${r.label} | ${n(r.recordsPerSecond.median)} | ${range(r.recordsPerSecond)} | ${x(r.toAtLeastOnce)} | ${x(r.toKafkaStreams)} | ${x(r.toCeiling)} | ${latency}${r.latency ? slow : ''} | ${r.cpuSecondsPer100k} | ${r.peakRssMb} |`;
}

/** The "count" block of the State section: `pnpm bench --workload count`, throughput against Kafka Streams. */
export function countBlock(
  summaries: readonly ScenarioSummary[],
  meta: { command: string; date: string; setup: string; versions: string; keys: number | undefined },
): string {
  const sections = summaries.map((s) => {
    const rows = s.rows.map(
      (r) =>
        `| ${r.label} | ${n(r.recordsPerSecond.median)} | ${range(r.recordsPerSecond)} | ${x(r.toKafkaStreams)} | ${r.cpuSecondsPer100k} | ${r.peakRssMb} |`,
    );
    return `${s.partitions} input partitions, ${n(s.records)} records per contender per run:

| contender | records/s (median) | spread (min – max) | × Kafka Streams EOS | CPU s per 100k records | peak RSS (MB) |
|---|---|---|---|---|---|
${rows.join('\n')}`;
  });
  return `The workload: ~1 KB records over ${n(meta.keys ?? 0)} keys; each one's key is counted in a store and
its new count written to LEFT (one output per input). Exactly: a \`store()\` of \`json<number>()\` per key, the input
value read as \`bytes()\` (not parsed), changelog records in each transaction; stores in memory (the default).
Kafka Streams: \`groupByKey().count()\` into its default store (RocksDB, with its changelog) under
\`exactly_once_v2\`, record cache off (\`statestore.cache.max.bytes=0\`) so that it too writes every count rather
than the last one per commit interval. Records/s: outputs on LEFT over the span of their append times, as above.

${meta.setup}

${sections.join('\n\n')}

Command: \`${meta.command}\` (${meta.date}). ${meta.versions}.`;
}

/** The "compression" block: `pnpm bench --compression`, the default client with each output codec. */
export function compressionBlock(
  summaries: readonly ScenarioSummary[],
  results: readonly ScenarioResult[],
  meta: { command: string; date: string; setup: string; versions: string },
): string {
  const sections = summaries.map((s) => {
    const runs = results.find((r) => r.partitions === s.partitions)?.throughput ?? {};
    const rows = s.rows.map((r) => {
      const disk = median((runs[r.name] ?? []).map((m) => m.outputMbOnDisk ?? Number.NaN));
      return `| ${r.label} | ${n(r.recordsPerSecond.median)} | ${range(r.recordsPerSecond)} | ${r.cpuSecondsPer100k} | ${Number.isNaN(disk) ? '-' : disk} |`;
    });
    return `${s.partitions} input partitions, ${n(s.records)} records per contender per run:

| contender | records/s (median) | spread (min – max) | CPU s per 100k records | outputs on disk (MB, median) |
|---|---|---|---|---|
${rows.join('\n')}`;
  });
  return `${meta.setup}

${sections.join('\n\n')}

Command: \`${meta.command}\` (${meta.date}). ${meta.versions}.`;
}

/** The "PostgreSQL" section around its block (also placed by `pnpm bench --postgres` in a page without it). */
export function postgresSection(block: string): string {
  return `## PostgreSQL

Table outputs (\`table()\` of \`@exactly/postgres\`, docs/postgres.md) against the plain Kafka contender with the same
client, on the same records in the same run: the fan-out with RIGHT's \`{id}\` as a row and LEFT a topic (two-phase
commit: PREPARE TRANSACTION, Kafka's commit, COMMIT PREPARED), and with both as rows (no topic output: one
PostgreSQL transaction per batch). Each run writes to new tables (\`id bigint, pad text\` for LEFT's record,
\`id bigint\` for RIGHT's), each with \`at timestamptz DEFAULT clock_timestamp()\`: with LEFT a table, records/s
is its rows over the span of their \`at\` (the rows' insert times, as the topics' append times for the others).
The two-phase contender writes one Kafka output fewer than the plain one (RIGHT is a row); what it adds is the
database's part of each batch: one transaction (fencing check, rows, note, \`PREPARE TRANSACTION\`) before Kafka's
commit and \`COMMIT PREPARED\` after it, a few milliseconds per batch of up to 5,000 records (see "PostgreSQL
clients" below), so its ratio says what the second phase costs against the topic output it replaces.

${block}`;
}

/** The "postgres" block: `pnpm bench --postgres`, table outputs against the plain Kafka contender. */
export function postgresBlock(
  summaries: readonly ScenarioSummary[],
  results: readonly ScenarioResult[],
  meta: { command: string; date: string; setup: string; versions: string; postgres: string },
): string {
  const sections = summaries.map((s) => {
    const runs = results.find((r) => r.partitions === s.partitions)?.throughput ?? {};
    const plain = s.rows.find((r) => r.name === PLAIN_KAFKA)?.recordsPerSecond.median;
    const toPlain = (r: ContenderRow) => (plain ? Number((r.recordsPerSecond.median / plain).toFixed(2)) : undefined);
    const rows = s.rows.map((r) => {
      const measured = runs[r.name] ?? [];
      const pgCpu = median(measured.map((m) => m.postgresCpuSecondsPer100k ?? Number.NaN));
      const counts = measured.flatMap((m) =>
        m.rows ? [m.rows.right, ...(m.rows.left === undefined ? [] : [m.rows.left])] : [],
      );
      const committed = counts.length ? n(Math.min(...counts)) : '-';
      return `| ${r.label} | ${n(r.recordsPerSecond.median)} | ${range(r.recordsPerSecond)} | ${x(toPlain(r))} | ${r.cpuSecondsPer100k} | ${Number.isNaN(pgCpu) ? '-' : pgCpu.toFixed(2)} | ${r.peakRssMb} | ${committed} |`;
    });
    const ratio = (name: string) => {
      const row = s.rows.find((r) => r.name === name);
      return row ? toPlain(row) : undefined;
    };
    const mixed = ratio('exactly-pg-mixed');
    const tables = ratio('exactly-pg-tables');
    const percent = (v: number) => `${Math.abs(Math.round((1 - v) * 100))}% ${v <= 1 ? 'fewer' : 'more'}`;
    const lines = [
      mixed === undefined
        ? undefined
        : `**Rows and a topic, two-phase commit** (RIGHT's \`{id}\` a row instead of a record): ${x(mixed)}× the plain contender's records/s (${percent(mixed)}).`,
      tables === undefined
        ? undefined
        : `**Tables only** (one PostgreSQL transaction per batch): ${x(tables)}× the plain contender's records/s, in rows of LEFT's table (${percent(tables)}).`,
    ].filter((line) => line !== undefined);
    return `${s.partitions} input partitions, ${n(s.records)} records per contender per run:

| contender | records/s (median) | spread (min – max) | × plain Kafka | CPU s per 100k records | PostgreSQL CPU s per 100k records | peak RSS (MB) | rows per table (fewest in a run) |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}

${lines.length ? lines.join(' ') : 'The plain Kafka contender or the PostgreSQL ones were not run: no ratios.'}`;
  });
  return `${meta.setup} ${meta.postgres}.

${sections.join('\n\n')}

CPU: the contender's process (start-up left out), and the PostgreSQL server's processes (postmaster, backends and
background workers) over the same span; peak RSS: the contender's process.

Command: \`${meta.command}\` (${meta.date}). ${meta.versions}.`;
}
