import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { childProcessesOf } from '@exactly/testkit';

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
const bin = `${packageRoot}dist/bin.js`;
/** The processors chaos runs: a stateless fan-out, or a running total per account in a store. */
export const CHAOS_PROCESSORS = {
  copier: `${packageRoot}chaos/copier.ts`,
  totals: `${packageRoot}chaos/totals.ts`,
  'copier-pg': `${packageRoot}chaos/copier-pg.ts`,
  rabbitmq: `${packageRoot}chaos/rabbitmq.ts`,
} as const;

export interface InstanceSettings {
  readonly brokers: string;
  readonly env: Readonly<Record<string, string>>;
  readonly sessionTimeoutMs: number;
  readonly logFile: string;
  /** The client adapter (`--client`). */
  readonly client: string;
  /** The slot's instance id: a restarted slot keeps it, as a supervisor restarting a pod would. */
  readonly instanceId: string;
  /** Which processor it runs. */
  readonly processor: keyof typeof CHAOS_PROCESSORS;
  /** The slot's state directory (--state-dir): its restarts find their local copies there. */
  readonly stateDir?: string;
  /** More arguments to `exactly run` (e.g. `--rabbitmq URL`). */
  readonly args?: readonly string[];
  /**
   * Worker processes per slot (`--workers`). With more than one, the slot's process is a supervisor, and a kill
   * or a stop reaches it and its workers together (its own process group), as a container's end would.
   */
  readonly workers?: number;
}

/** One processor slot: an `exactly run` process that chaos kills, stops and restarts. */
export class Instance {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly log: WriteStream;

  constructor(private readonly settings: InstanceSettings) {
    this.log = createWriteStream(settings.logFile, { flags: 'a' });
  }

  /** Starts the slot's process; `env` adds to its environment for this start only (a crash point). */
  start(env: Readonly<Record<string, string>> = {}): void {
    const child = spawn(
      process.execPath,
      [
        bin,
        'run',
        CHAOS_PROCESSORS[this.settings.processor],
        '--brokers',
        this.settings.brokers,
        '--provenance',
        '--session-timeout',
        String(this.settings.sessionTimeoutMs),
        '--transaction-timeout',
        '10000',
        '--log-level',
        process.env.EXACTLY_CHAOS_LOG_LEVEL ?? 'warn', // info shows assignments and the offsets tasks start from
        '--client',
        this.settings.client,
        '--instance-id',
        this.settings.instanceId,
        ...(this.settings.stateDir ? ['--state-dir', this.settings.stateDir] : []),
        ...(this.settings.workers ? ['--workers', String(this.settings.workers)] : []),
        ...(this.settings.args ?? []),
      ],
      {
        env: { ...process.env, ...this.settings.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: this.grouped,
      },
    );
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.child = child;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** A supervisor with its workers: signals that stop or kill the slot go to its whole process group. */
  private get grouped(): boolean {
    return (this.settings.workers ?? 1) > 1;
  }

  signal(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    // SIGTERM is the supervisor's to pass on (a graceful stop); a kill or a pause hits every process at once,
    // even when the supervisor itself has already exited (its workers would otherwise run on).
    if (this.grouped && signal !== 'SIGTERM') {
      try {
        process.kill(-pid, signal);
      } catch {
        // the group is empty
      }
    } else if (this.running) this.child?.kill(signal);
  }

  /** The slot's worker processes (none without --workers), by pid: its supervisor's children marked as workers. */
  workerPids(): number[] {
    const pid = this.child?.pid;
    if (!this.grouped || pid === undefined || !this.running) return [];
    const pids: number[] = [];
    for (const child of childProcessesOf(pid)) {
      try {
        // Not the esbuild service a TypeScript import starts beside them.
        if (readFileSync(`/proc/${child}/environ`, 'latin1').includes('EXACTLY_WORKER=')) pids.push(child);
      } catch {
        // gone meanwhile
      }
    }
    return pids;
  }

  /** Resolves true when the process exits by itself within `ms` (a crash point reached), false otherwise. */
  async exitsWithin(ms: number): Promise<boolean> {
    if (!this.running) return true;
    const timer = new Promise<false>((resolve) => setTimeout(() => resolve(false), ms).unref());
    return Promise.race([this.exited.then(() => true as const), timer]);
  }

  /** SIGKILL (the supervisor and its workers alike), then wait until they are gone. */
  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
    await this.groupGone();
  }

  /** SIGTERM (graceful: finish or abort the open transaction), then wait. */
  async stop(): Promise<void> {
    this.signal('SIGCONT');
    this.signal('SIGTERM');
    await this.exited;
    // A supervisor is gone once its workers are: wait for those too (they exit after their graceful stop).
    await this.groupGone();
  }

  /**
   * Waits until no process of the slot's group is left; one still there after a minute (a worker that did not
   * stop) is killed, so that no process of this slot outlives it under its instance id.
   */
  private async groupGone(): Promise<void> {
    const pid = this.child?.pid;
    if (!this.grouped || pid === undefined) return;
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        process.kill(-pid, Date.now() < deadline ? 0 : 'SIGKILL');
      } catch {
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  close(): void {
    this.log.end();
  }
}
