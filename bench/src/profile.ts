// `pnpm bench:profile`: where a contender's CPU goes. Writes the bench's 1 KB records to a fresh input, runs the
// platformatic contender under `node --cpu-prof` until its group has caught up, stops it, and prints the
// profile's self time by category (idle, garbage collection, the client library, ours, Node) and the top
// functions, and the peak RSS. With --workers N, the workers are profiled (each writes its own profile; they are
// added up). --node-flags "..." adds V8/Node flags (e.g. a heap limit) to the contender's processes, --run-args "..."
// more `exactly run` options, --stdout file keeps the contender's standard output (V8's --trace-gc writes there).
// --alloc prints where the allocated bytes go instead (V8's sampling heap profiler, collected objects included):
// what is allocated per record, by category and by function, the garbage that sets the peak RSS.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateRecords, groupLag, startKafka } from '@exactly/testkit';
import { ContenderProcess } from './child.js';
import { contenders, PLAIN_KAFKA } from './contenders.js';
import { createTopics, deleteTopics, outputTopics, stageEnv, uniqueName } from './topics.js';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
}

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '300000' },
    partitions: { type: 'string', default: '6' },
    workers: { type: 'string', default: '1' },
    brokers: { type: 'string' },
    top: { type: 'string', default: '30' },
    'node-flags': { type: 'string', default: '' },
    // More `exactly run` options (e.g. "--max-batch 2000"), to see what a setting costs.
    'run-args': { type: 'string', default: '' },
    // Where the contender's standard output goes (e.g. with --node-flags="--trace-gc"); dropped without it.
    stdout: { type: 'string' },
    // Time and memory without the profiler's own overhead.
    'no-profile': { type: 'boolean', default: false },
    // Bytes allocated, by function, instead of CPU time.
    alloc: { type: 'boolean', default: false },
  },
});
const records = Number(values.records);
const partitions = Number(values.partitions);
const workers = Number(values.workers);

const kafka = values.brokers ? undefined : await startKafka({ localOnly: true });
const brokers = values.brokers ?? kafka?.brokers ?? '';
const profiles = mkdtempSync(join(tmpdir(), 'exactly-profile-'));
/** This run's topics, deleted at the end: a broker left holding thousands of partitions gets slower. */
const created: string[] = [];
try {
  const input = uniqueName(`profile-${partitions}p`);
  created.push(input);
  await createTopics(brokers, [input], partitions);
  await generateRecords({ brokers, topic: input, count: records, padding: 1000, chunk: 500 });
  const env = stageEnv(brokers, 'profile', 'fan-out', input);
  const outputs = outputTopics(env);
  created.push(...outputs);
  await createTopics(brokers, outputs, partitions, true);
  const base = contenders.find((c) => c.name === PLAIN_KAFKA);
  if (!base) throw new Error(`no contender ${PLAIN_KAFKA}`);
  const profiled = {
    ...base,
    command: (e: typeof env) => {
      const { command, args } = base.command(e);
      return {
        command,
        args: [
          ...(values['node-flags'] ?? '').split(' ').filter(Boolean),
          ...(values.alloc ? ['--import', fileURLToPath(new URL('./alloc-sampler.mjs', import.meta.url))] : []),
          ...(values['no-profile'] || values.alloc ? [] : ['--cpu-prof', '--cpu-prof-dir', profiles]),
          ...args,
          ...(values['run-args'] ?? '').split(' ').filter(Boolean),
          ...(workers > 1 ? ['--workers', String(workers)] : []),
        ],
      };
    },
  };
  if (values.alloc) process.env.EXACTLY_ALLOC_DIR = profiles; // the sampler's output, passed on to the contender
  const started = Date.now();
  const child = new ContenderProcess(profiled, env, values.stdout);
  let peakRssKb = 0;
  for (;;) {
    child.assertRunning();
    peakRssKb = Math.max(peakRssKb, child.sample()?.peakRssKb ?? 0);
    const lag = await groupLag(brokers, env.BENCH_GROUP, input).catch(() => records);
    if (lag === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const seconds = (Date.now() - started) / 1000;
  await child.stop();
  const files = readdirSync(profiles).filter((f) => f.endsWith('.cpuprofile'));
  const all = files.map((f) => JSON.parse(readFileSync(join(profiles, f), 'utf8')) as CpuProfile);
  // With workers, the supervisor's profile is nearly all idle: leave it out of the shares.
  const busy = workers > 1 ? all.filter((p) => shareOf(p, '(idle)') < 0.95) : all;
  console.log(
    `${records} records, ${partitions} partitions, ${workers} worker(s): caught up in ${seconds.toFixed(1)} s, peak RSS ${Math.round(peakRssKb / 1024)} MB (largest process); ${busy.length} profile(s) in ${profiles}`,
  );
  if (values.alloc) printAllocations(profiles, records, Number(values.top));
  else if (!values['no-profile']) printShares(busy, Number(values.top));
} finally {
  if (created.length > 0) await deleteTopics(brokers, created).catch(() => undefined);
  await kafka?.stop();
}

function shareOf(profile: CpuProfile, functionName: string): number {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = profile.samples.filter((id) => byId.get(id)?.callFrame.functionName === functionName).length;
  return hits / Math.max(1, profile.samples.length);
}

/** The category of a sample's own frame: what a reader of "where the time goes" needs to tell apart. */
function categoryOf(frame: ProfileNode['callFrame']): string {
  const { functionName, url } = frame;
  if (functionName === '(idle)') return 'idle: waiting for the broker';
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(program)') return 'V8 and native code outside JavaScript';
  if (url.includes('@platformatic/kafka')) return 'the client (@platformatic/kafka)';
  if (url.includes('/packages/core/')) return 'ours: @exactly/core (serdes, pipeline)';
  if (url.includes('/packages/runtime/')) return 'ours: @exactly/runtime (engine, adapter)';
  if (url.includes('prom-client')) return 'prom-client';
  if (url.includes('pino') || url.includes('sonic-boom')) return 'logging (pino)';
  if (url.includes('node_modules')) return `other libraries`;
  if (url.startsWith('node:') || url === '') return 'Node itself (buffers, streams, JSON, builtins)';
  return 'other (the contender)';
}

function printShares(profiles: readonly CpuProfile[], top: number): void {
  const categories = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  for (const profile of profiles) {
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    for (const id of profile.samples) {
      const frame = byId.get(id)?.callFrame;
      if (!frame) continue;
      total += 1;
      const category = categoryOf(frame);
      categories.set(category, (categories.get(category) ?? 0) + 1);
      const name = functionName(frame);
      functions.set(name, (functions.get(name) ?? 0) + 1);
    }
  }
  const pct = (n: number) => `${((100 * n) / Math.max(1, total)).toFixed(1)}%`.padStart(6);
  console.log('\nself time by category:');
  for (const [category, n] of [...categories].sort((a, b) => b[1] - a[1])) console.log(`${pct(n)}  ${category}`);
  console.log(`\ntop ${top} functions by self time:`);
  for (const [name, n] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(n)}  ${name}`);
}

interface AllocationNode {
  readonly callFrame: ProfileNode['callFrame'];
  readonly selfSize: number;
  readonly children: readonly AllocationNode[];
}

/** The bytes the sampled processes allocated, per record of the input, by category and by function. */
function printAllocations(dir: string, records: number, top: number): void {
  const categories = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  const add = (node: AllocationNode): void => {
    if (node.selfSize > 0) {
      total += node.selfSize;
      const category = categoryOf(node.callFrame);
      categories.set(category, (categories.get(category) ?? 0) + node.selfSize);
      const name = functionName(node.callFrame);
      functions.set(name, (functions.get(name) ?? 0) + node.selfSize);
    }
    for (const child of node.children) add(child);
  };
  for (const file of readdirSync(dir).filter((f) => /^alloc-\d+\.json$/.test(f)))
    add((JSON.parse(readFileSync(join(dir, file), 'utf8')) as { head: AllocationNode }).head);
  const perRecord = (bytes: number) => `${Math.round(bytes / records)} B`.padStart(8);
  console.log(`\nallocated: ${perRecord(total)} per record in all (${Math.round(total / 2 ** 20)} MB sampled)`);
  console.log('\nallocated per record, by category:');
  for (const [category, n] of [...categories].sort((a, b) => b[1] - a[1])) console.log(`${perRecord(n)}  ${category}`);
  console.log(`\ntop ${top} functions by bytes allocated (inlined callees count as their caller's):`);
  for (const [name, n] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${perRecord(n)}  ${name}`);
}

function functionName(frame: ProfileNode['callFrame']): string {
  const where = frame.url
    .replace(/^.*node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, '')
    .replace(/^.*\/packages\//, '');
  return `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
}
