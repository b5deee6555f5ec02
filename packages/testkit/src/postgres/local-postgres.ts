import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, fchownSync, openSync } from 'node:fs';
import { chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from '../kafka/ports.js';
import { commandLine, isAlive, terminate, tieToThisProcess, waitForExit } from '../kafka/processes.js';
import { postgresBinDir } from './binaries.js';

const exec = promisify(execFile);

export interface LocalPostgresOptions {
  /** Holds the data directory, the socket, the log and the state file; reused across restarts. */
  readonly dir: string;
  /** Port on 127.0.0.1; a free one when absent (or taken). */
  readonly port?: number;
  /** Keep the server running after this Node process exits (what `exactly postgres start` wants). */
  readonly detached?: boolean;
  /** Two-phase commit's limit; 0 turns it off (PostgreSQL's own default), to test that case. Default 64. */
  readonly maxPreparedTransactions?: number;
}

interface PostgresState {
  readonly pid: number;
  readonly port: number;
}

/** Who runs the server: PostgreSQL refuses root, so a root caller runs it as the package's `postgres` user. */
interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

/**
 * A PostgreSQL server from the machine's own installation (Debian's `postgresql` package), on 127.0.0.1, with
 * two-phase commit on (`max_prepared_transactions`), started and stopped by PID. For tests and development: fsync
 * is off (a killed server loses nothing; only a machine crash could). `crash()` is an immediate shutdown (no
 * checkpoint: the next start recovers from the WAL, prepared transactions included).
 */
export class LocalPostgres {
  /** Unties a private server from this process (see tieToThisProcess). */
  private untie: (() => void) | undefined;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly options: LocalPostgresOptions,
    private pidValue: number | undefined,
  ) {}

  /** `postgres://postgres@127.0.0.1:<port>/postgres`: trust authentication on loopback, the superuser. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  get pid(): number | undefined {
    return this.pidValue;
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** The server whose state lives in `dir`, if it is running now. */
  static async attach(dir: string): Promise<LocalPostgres | undefined> {
    const state = await readState(dir);
    if (!state || !isAlive(state.pid)) return undefined;
    if (!commandLine(state.pid)?.includes(join(dir, 'data'))) return undefined; // a reused PID
    return new LocalPostgres(dir, state.port, { dir }, state.pid);
  }

  static async start(options: LocalPostgresOptions): Promise<LocalPostgres> {
    const previous = await readState(options.dir);
    const port = await freePort(options.port ?? previous?.port ?? 0);
    const server = new LocalPostgres(options.dir, port, options, undefined);
    await server.start();
    return server;
  }

  /** (Re)starts the server on this directory and port; resolves once it accepts connections. */
  async start(): Promise<void> {
    if (this.pidValue !== undefined && isAlive(this.pidValue)) return;
    const bin = postgresBinDir();
    const runAs = await unprivilegedUser();
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    if (runAs) await chown(this.dir, runAs.uid, runAs.gid);
    if (!existsSync(join(this.dataDir, 'PG_VERSION'))) await this.initdb(bin, runAs);
    const logFile = join(this.dir, 'postgres.log');
    const log = openSync(logFile, 'a');
    if (runAs) fchownSync(log, runAs.uid, runAs.gid);
    let child: ChildProcess;
    try {
      child = spawn(
        join(bin, 'postgres'),
        [
          '-D',
          this.dataDir,
          '-p',
          String(this.port),
          '-k',
          this.dir, // the socket next to the data, not /var/run/postgresql
          '-c',
          'listen_addresses=127.0.0.1',
          '-c',
          `max_prepared_transactions=${this.options.maxPreparedTransactions ?? 64}`, // 0 (PostgreSQL's default): off
          '-c',
          'fsync=off', // tests and development only: a killed server loses nothing, a machine crash could
          '-c',
          'synchronous_commit=off',
          '-c',
          'full_page_writes=off',
        ],
        {
          stdio: ['ignore', log, log],
          cwd: this.dir,
          detached: this.options.detached ?? false,
          ...(runAs ?? {}),
        },
      );
    } finally {
      closeSync(log);
    }
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid ?? -1));
      child.once('error', reject);
    });
    this.pidValue = pid;
    if (this.options.detached) child.unref();
    else {
      this.untie?.();
      this.untie = tieToThisProcess(pid, 'SIGQUIT'); // a private server must not outlive its test run
    }
    await writeFile(join(this.dir, 'state.json'), JSON.stringify({ pid, port: this.port } satisfies PostgresState));
    await this.waitUntilReady(logFile, 30_000);
  }

  /** An immediate shutdown (SIGQUIT): no checkpoint, as a crash; the next start() recovers. */
  async crash(): Promise<void> {
    await this.signal('SIGQUIT', 10_000);
  }

  /** A fast shutdown (SIGINT): open transactions are rolled back, prepared ones are kept. Leaves no process. */
  async stop(): Promise<void> {
    await this.signal('SIGINT', 30_000);
  }

  private async signal(signal: NodeJS.Signals, graceMs: number): Promise<void> {
    const pid = this.pidValue;
    if (pid === undefined) return;
    await terminate(pid, signal, graceMs);
    this.pidValue = undefined;
    this.untie?.();
    this.untie = undefined;
  }

  private async initdb(bin: string, runAs: RunAs | undefined): Promise<void> {
    const args = ['-D', this.dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'];
    try {
      await exec(join(bin, 'initdb'), args, { cwd: this.dir, ...(runAs ?? {}) });
    } catch (error) {
      const { stderr } = error as { stderr?: string };
      throw new Error(`initdb failed in ${this.dataDir}: ${stderr?.trim() || (error as Error).message}`);
    }
  }

  /** Ready when postmaster.pid says so (its 8th line), and the port answers. */
  private async waitUntilReady(logFile: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const pid = this.pidValue as number;
    while (Date.now() < deadline) {
      if (!isAlive(pid)) {
        await waitForExit(pid, 1000);
        const tail = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
        throw new Error(`PostgreSQL exited during start-up. From ${logFile}:\n${tail}`);
      }
      const status = await readFile(join(this.dataDir, 'postmaster.pid'), 'utf8').catch(() => '');
      if (status.split('\n')[7]?.trim() === 'ready') return;
      await delay(50);
    }
    throw new Error(`PostgreSQL did not become ready within ${timeoutMs} ms (log: ${logFile})`);
  }
}

async function readState(dir: string): Promise<PostgresState | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as PostgresState;
  } catch {
    return undefined;
  }
}

/** As root: the `postgres` user of the package (PostgreSQL will not run as root). Otherwise: this user. */
async function unprivilegedUser(): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const [uid, gid] = await Promise.all([exec('id', ['-u', 'postgres']), exec('id', ['-g', 'postgres'])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    throw new Error(
      'PostgreSQL will not run as root, and there is no `postgres` user to run it as (the postgresql package creates one)',
    );
  }
}
