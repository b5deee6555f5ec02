import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
  private readonly checkpoints: LmdbDatabase<Checkpoint>;
  /** The newest handle of each store partition: an older one (a task that lost the partition) writes nothing. */
  private readonly current = new Map<string, LmdbState>();
  private closing: Promise<void> | undefined;

  private constructor(
    readonly path: string,
    private readonly env: LmdbEnvironment,
    private readonly lockFile: string,
  ) {
    this.checkpoints = env.openDB<Checkpoint>({ name: 'checkpoints', encoding: 'json' });
  }

  /** Opens (creating it) `stateDir`/`processorId`, for `databases` store partitions at most. */
  static async open(stateDir: string, processorId: string, databases: number): Promise<LocalStateDir> {
    const path = join(stateDir, processorId);
    if (held.has(path)) {
      throw new ExactlyConfigError(
        'stateDir',
        `${path} is in use by another run() of '${processorId}' in this process: give each instance its own stateDir`,
      );
    }
    mkdirSync(path, { recursive: true });
    const lockFile = join(path, 'LOCK');
    takeLock(lockFile, path);
    held.add(path);
    try {
      const { open } = (await import('lmdb')) as unknown as { open: LmdbOpen };
      // Synced commits: LMDB's copy-on-write tree is then whole on disk after a machine crash too (an unsynced
      // one can be damaged, and LMDB crashes the process on a damaged file rather than reporting it).
      const env = open({ path: join(path, 'stores'), maxDbs: databases + 1 });
      return new LocalStateDir(path, env, lockFile);
    } catch (error) {
      held.delete(path);
      rmSync(lockFile, { force: true });
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
      await this.env.close();
      rmSync(this.lockFile, { force: true });
      held.delete(this.path);
    })();
    return this.closing;
  }
}

/**
 * A store partition's committed state in LMDB, and its checkpoint: survives the process, kept current by
 * confirmed commits. A retired handle (a newer one took over) neither writes nor moves the checkpoint.
 */
export class LmdbState implements CommittedState {
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
    return this.db.get(Buffer.from(key, 'latin1'));
  }

  *entries(): Iterable<[string, Buffer]> {
    for (const { key, value } of this.db.getRange()) yield [key.toString('latin1'), value];
  }

  apply(changes: ReadonlyMap<string, Buffer | null>): void {
    if (this.retired) return;
    this.db.transactionSync(() => {
      for (const [key, bytes] of changes) {
        if (bytes === null) this.db.remove(Buffer.from(key, 'latin1'));
        else this.db.put(Buffer.from(key, 'latin1'), bytes);
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

/** Takes `lockFile` for this process, unless a live process holds it. */
function takeLock(lockFile: string, path: string): void {
  try {
    const fd = openSync(lockFile, 'wx');
    writeFileSync(fd, String(process.pid));
    closeSync(fd);
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const pid = Number(readFileSync(lockFile, 'utf8'));
  if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
    throw new ExactlyConfigError(
      'stateDir',
      `${path} is in use by process ${pid}: give each instance its own stateDir (--state-dir)`,
    );
  }
  // Left by a process that is gone: take it over.
  writeFileSync(lockFile, String(process.pid));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
