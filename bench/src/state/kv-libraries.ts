// `pnpm bench:kv`: the two embedded key-value libraries considered for the stores' local copies (stateDir),
// side by side on the operations a store does: a commit's changes written in one transaction, the handler's
// synchronous reads, a full scan, and reopening after a restart. Writes the "kv" block of docs/benchmarks.md.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ClassicLevel } from 'classic-level';
import { open } from 'lmdb';
import { writeBlock } from '../doc-blocks.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { keys: { type: 'string', default: '1000000' }, batch: { type: 'string', default: '5000' } },
});
const keys = Number(values.keys);
const batch = Number(values.batch);
const log = (line: string) => process.stdout.write(`${line}\n`);

const keyBytes = (i: number) => Buffer.from(`account-${i}`);
const valueBytes = (i: number) => Buffer.from(JSON.stringify(i * 7));

async function timed(what: () => unknown): Promise<number> {
  const started = performance.now();
  await what();
  return Math.round(performance.now() - started);
}

interface Row {
  readonly library: string;
  readonly writeMs: number;
  readonly readMs: number;
  readonly readsAreSync: boolean;
  readonly scanMs: number;
  readonly reopenMs: number;
  readonly diskMb: number;
}

const diskMb = (path: string) => Math.round(Number(execFileSync('du', ['-sk', path]).toString().split('\t')[0]) / 1024);
const root = mkdtempSync(join(tmpdir(), 'exactly-kv-'));
const rows: Row[] = [];
try {
  // LMDB: a synchronous transaction per batch (as a confirmed commit applies its changes), synced to disk.
  const lmdbPath = join(root, 'lmdb');
  let env = open({ path: lmdbPath });
  let db = env.openDB<Buffer, Buffer>({ name: 'store', keyEncoding: 'binary', encoding: 'binary' });
  const lmdbWrite = await timed(() => {
    for (let first = 0; first < keys; first += batch)
      db.transactionSync(() => {
        for (let i = first; i < Math.min(first + batch, keys); i++) db.put(keyBytes(i), valueBytes(i));
      });
  });
  const lmdbRead = await timed(() => {
    for (let i = 0; i < keys; i++) if (!db.get(keyBytes(i))) throw new Error(`lmdb lost key ${i}`);
  });
  const lmdbScan = await timed(() => {
    let n = 0;
    for (const _ of db.getRange()) n++;
    if (n !== keys) throw new Error(`lmdb scanned ${n} of ${keys}`);
  });
  await env.close();
  const lmdbReopen = await timed(async () => {
    env = open({ path: lmdbPath });
    db = env.openDB<Buffer, Buffer>({ name: 'store', keyEncoding: 'binary', encoding: 'binary' });
    if (!db.get(keyBytes(5))) throw new Error('lmdb lost key 5');
  });
  await env.close();
  rows.push({
    library: 'lmdb (LMDB)',
    writeMs: lmdbWrite,
    readMs: lmdbRead,
    readsAreSync: true,
    scanMs: lmdbScan,
    reopenMs: lmdbReopen,
    diskMb: diskMb(lmdbPath),
  });

  // classic-level (LevelDB): a batch per transaction, synced; reads are asynchronous only.
  const levelPath = join(root, 'level');
  let level = new ClassicLevel<Buffer, Buffer>(levelPath, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await level.open();
  const levelWrite = await timed(async () => {
    for (let first = 0; first < keys; first += batch) {
      const ops = [];
      for (let i = first; i < Math.min(first + batch, keys); i++)
        ops.push({ type: 'put' as const, key: keyBytes(i), value: valueBytes(i) });
      await level.batch(ops, { sync: true });
    }
  });
  const levelRead = await timed(async () => {
    for (let i = 0; i < keys; i++) if (!(await level.get(keyBytes(i)))) throw new Error(`level lost key ${i}`);
  });
  const levelScan = await timed(async () => {
    let n = 0;
    for await (const _ of level.iterator()) n++;
    if (n !== keys) throw new Error(`level scanned ${n} of ${keys}`);
  });
  await level.close();
  const levelReopen = await timed(async () => {
    level = new ClassicLevel<Buffer, Buffer>(levelPath, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await level.open();
    if (!(await level.get(keyBytes(5)))) throw new Error('level lost key 5');
  });
  await level.close();
  rows.push({
    library: 'classic-level (LevelDB)',
    writeMs: levelWrite,
    readMs: levelRead,
    readsAreSync: false,
    scanMs: levelScan,
    reopenMs: levelReopen,
    diskMb: diskMb(levelPath),
  });
} finally {
  rmSync(root, { recursive: true, force: true });
}

const n = (value: number) => value.toLocaleString('en-US');
const table = rows.map(
  (r) =>
    `| ${r.library} | ${n(r.writeMs)} | ${n(r.readMs)}${r.readsAreSync ? '' : ' (async)'} | ${r.readsAreSync ? 'yes' : 'no'} | ${n(r.scanMs)} | ${n(r.reopenMs)} | ${n(r.diskMb)} |`,
);
for (const line of table) log(line);
const command = `pnpm bench:kv ${process.argv.slice(2).join(' ')}`.trim();
const cpu = cpus();
await writeBlock(
  'kv',
  `${n(keys)} keys (\`account-<i>\`, small JSON values), written in transactions of ${n(batch)} changes each, synced
to disk (as a confirmed commit applies its changes); then every key read once, a full scan, and a reopen with
one read. Times in ms; ${process.platform} ${process.arch}, ${cpu.length} CPUs, Node ${process.versions.node}.

| library | write (ms) | read every key (ms) | synchronous reads | scan (ms) | reopen (ms) | on disk (MB) |
|---|---|---|---|---|---|---|
${table.join('\n')}

**Chosen: LMDB.** A handler's \`get\` is synchronous (the API the issue fixes), and only LMDB reads
synchronously: classic-level would need every store read awaited, or a cache of the whole store in memory,
which is what a local copy is meant to avoid. LMDB is also faster here at writing, reading and scanning, and
opens at once (a memory map; no log to replay). It takes more disk (a B-tree with free pages, against LevelDB's
compressed sorted files). Upkeep: both are maintained native modules with prebuilt binaries for Linux, macOS
and Windows; LMDB needs no compaction of its own. Command: \`${command}\` (${new Date().toISOString()}).`,
);
log(`Written: the kv block of docs/benchmarks.md (${command})`);
