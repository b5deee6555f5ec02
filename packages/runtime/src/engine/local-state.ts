import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { type CommittedState, ExactlyConfigError } from '@exactly/core';

/** The part of lmdb this file uses (imported only when a state directory is set). */
interface LmdbDatabase<V> {
  get(key: Buffer | string): V | undefined;
  put(key: Buffer | string, value: V): unknown;
  remove(key: Buffer | string): unknown;
  getRange(): Iterable<{ key: Buffer; value: V }>;
  getStats(): { entryCount: number };
  transactionSync<T>(action: () => T): T;
  clearSync(): void;
}
interface LmdbEnvironment {
  transactionSync<T>(action: () => T): T;
  openDB<V>(options: { name: string; keyEncoding?: 'binary'; encoding: 'binary' | 'json' }): LmdbDatabase<V>;
  close(): Promise<void>;
}
type LmdbOpen = (options: { path: string; maxDbs: number }) => LmdbEnvironment;

/** Where a store's local copy stood in its changelog when it was last known to hold everything before it. */
export interface Checkpoint {
  /** The changelog offset: every committed change before it is in the local copy (later ones may be too). */
  readonly offset: string;
  /** When it was written (ms since the epoch): a checkpoint older than the changelog keeps deletes is unusable. */
  readonly at: number;
}

/** Directories held by this process: a second run() of the same processor on one directory is refused too. */
const held = new Set<string>();

/**
 * The local copies of a processor's stores under `stateDir`: one LMDB environment per processor, one database
 * per store and input partition, and a checkpoint for each. The changelog stays the source of truth; the local
 * copy only shortens a restore to the changelog's tail after the checkpoint (changelog records hold whole
 * values, so reading again a change the copy already has leaves it as it is). One process at a time uses a
 * directory: a lock file names it.
 */
export class LocalStateDir {
  /** The newest handle of each store partition: an older one (a task that lost the partition) writes nothing. */
  private readonly current = new Map<string, LmdbState>();
  private closing: Promise<void> | undefined;

  private constructor(
    readonly path: string,
    private readonly env: LmdbEnvironment,
    private readonly checkpoints: LmdbDatabase<Checkpoint>,
    private readonly releaseLock: () => void,
  ) {}

  /** Opens (creating it) `stateDir`/`processorId`, for `databases` store partitions at most. */
  static async open(stateDir: string, processorId: string, databases: number): Promise<LocalStateDir> {
    const path = join(stateDir, processorId);
    if (held.has(path)) {
      throw new ExactlyConfigError(
        'stateDir',
        `${path} is in use by another run() of '${processorId}' in this process: give each instance its own stateDir`,
      );
    }
    held.add(path);
    let releaseLock: (() => void) | undefined;
    let env: LmdbEnvironment | undefined;
    try {
      mkdirSync(path, { recursive: true });
      releaseLock = await takeLock(join(path, 'LOCK'), path);
      const { open } = (await import('lmdb')) as unknown as { open: LmdbOpen };
      // Synced commits: LMDB's copy-on-write tree is then whole on disk after a machine crash too (an unsynced
      // one can be damaged, and LMDB crashes the process on a damaged file rather than reporting it).
      env = open({ path: join(path, 'stores'), maxDbs: databases + 1 });
      const checkpoints = env.openDB<Checkpoint>({ name: 'checkpoints', encoding: 'json' });
      return new LocalStateDir(path, env, checkpoints, releaseLock);
    } catch (error) {
      await env?.close().catch(() => {});
      releaseLock?.();
      held.delete(path);
      throw error;
    }
  }

  /** Runs `writes` as one LMDB transaction (one fsync): a commit's changes to every copy, and their checkpoints. */
  atomically(writes: () => void): void {
    this.env.transactionSync(writes);
  }

  /** The local copy of `store`'s partition `partition`; earlier handles of it stop writing. */
  committed(store: string, partition: number): LmdbState {
    const name = `${store}/${partition}`;
    this.current.get(name)?.retire();
    const db = this.env.openDB<Buffer>({ name, keyEncoding: 'binary', encoding: 'binary' });
    const state = new LmdbState(db, this.checkpoints, name);
    this.current.set(name, state);
    return state;
  }

  /** Closes the copies (once; later calls wait for the first) and gives the directory up. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const state of this.current.values()) state.retire();
      this.current.clear();
      try {
        await this.env.close();
      } finally {
        this.releaseLock();
        held.delete(this.path);
      }
    })();
    return this.closing;
  }
}

/**
 * A store partition's committed state in LMDB, and its checkpoint: survives the process, kept current by
 * confirmed commits. A retired handle (a newer one took over) neither writes nor moves the checkpoint.
 */
export class LmdbState implements CommittedState {
  /** LMDB's key limit (1978 bytes) less the prefix byte. */
  readonly maxKeyBytes = 1977;
  private retired = false;

  constructor(
    private readonly db: LmdbDatabase<Buffer>,
    private readonly checkpoints: LmdbDatabase<Checkpoint>,
    private readonly name: string,
  ) {}

  checkpoint(): Checkpoint | undefined {
    return this.checkpoints.get(this.name);
  }

  /** Records that this copy holds every committed change before `offset` (written after the changes). */
  writeCheckpoint(offset: string): void {
    if (this.retired) return;
    this.checkpoints.transactionSync(() => this.checkpoints.put(this.name, { offset, at: Date.now() }));
  }

  /** Before a rebuild: a copy being rebuilt has no checkpoint until it is whole again. */
  removeCheckpoint(): void {
    if (this.retired) return;
    this.checkpoints.transactionSync(() => this.checkpoints.remove(this.name));
  }

  get(key: string): Buffer | undefined {
    return this.db.get(lmdbKey(key));
  }

  *entries(): Iterable<[string, Buffer]> {
    for (const { key, value } of this.db.getRange()) yield [key.subarray(1).toString('latin1'), value];
  }

  apply(changes: ReadonlyMap<string, Buffer | null>): void {
    if (this.retired) return;
    this.db.transactionSync(() => {
      for (const [key, bytes] of changes) {
        if (bytes === null) this.db.remove(lmdbKey(key));
        else this.db.put(lmdbKey(key), bytes);
      }
    });
  }

  get size(): number {
    return this.db.getStats().entryCount;
  }

  clear(): void {
    if (!this.retired) this.db.clearSync();
  }

  /** A newer handle took over: a late commit of a task that lost the partition must not write over it. */
  retire(): void {
    this.retired = true;
  }
}

/** A store key as LMDB keeps it: prefixed with a byte, as LMDB refuses an empty key (a store may have one). */
function lmdbKey(key: string): Buffer {
  const bytes = Buffer.alloc(1 + Buffer.byteLength(key, 'latin1'));
  bytes[0] = 1;
  bytes.write(key, 1, 'latin1');
  return bytes;
}

/** The lock file is touched this often while held; one not touched for LOCK_STALE_MS is a dead holder's. */
const LOCK_HEARTBEAT_MS = 5_000;
const LOCK_STALE_MS = 20_000;

interface LockHolder {
  readonly host: string;
  readonly pid: number;
}

/**
 * Takes `lockFile` for this process and keeps it fresh; resolves with its release. A lock held by a live
 * process of this host is refused at once. One of another host (a shared volume), or of a process this host
 * cannot see (another PID namespace), counts as held while it is touched, and as left behind once it has
 * not been for LOCK_STALE_MS: this waits that long for it at most.
 */
async function takeLock(lockFile: string, path: string): Promise<() => void> {
  const me: LockHolder = { host: hostname(), pid: process.pid };
  const deadline = Date.now() + LOCK_STALE_MS + LOCK_HEARTBEAT_MS;
  for (;;) {
    if (claim(lockFile, me)) break;
    const holder = readHolder(lockFile);
    const ageMs = Date.now() - lockTouchedAt(lockFile);
    const sameHost = holder?.host === me.host;
    const gone = !holder || ageMs > LOCK_STALE_MS || (sameHost && (holder.pid === me.pid || !isAlive(holder.pid)));
    if (gone) {
      writeFileSync(lockFile, JSON.stringify(me)); // left by a process that is gone: taken over
      break;
    }
    if (sameHost || Date.now() > deadline) {
      throw new ExactlyConfigError(
        'stateDir',
        `${path} is in use by process ${holder.pid} on ${holder.host} (its lock was renewed ${Math.round(ageMs / 1000)} s ago): give each instance its own stateDir (--state-dir)`,
      );
    }
    await delay(1000);
  }
  const heartbeat = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(lockFile, now, now);
    } catch {
      // Gone with its directory: nothing to keep fresh.
    }
  }, LOCK_HEARTBEAT_MS);
  heartbeat.unref();
  return () => {
    clearInterval(heartbeat);
    rmSync(lockFile, { force: true });
  };
}

/** Creates `lockFile` naming `me`, unless it exists. */
function claim(lockFile: string, me: LockHolder): boolean {
  try {
    const fd = openSync(lockFile, 'wx');
    writeFileSync(fd, JSON.stringify(me));
    closeSync(fd);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function readHolder(lockFile: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(readFileSync(lockFile, 'utf8')) as Partial<LockHolder>;
    return typeof holder.host === 'string' && Number.isInteger(holder.pid)
      ? { host: holder.host, pid: holder.pid as number }
      : undefined;
  } catch {
    return undefined; // unreadable, or removed meanwhile: nobody holds it
  }
}

function lockTouchedAt(lockFile: string): number {
  try {
    return statSync(lockFile).mtimeMs;
  } catch {
    return 0;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
