import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';

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
        ...(this.settings.args ?? []),
      ],
      { env: { ...process.env, ...this.settings.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.child = child;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child?.kill(signal);
  }

  /** Resolves true when the process exits by itself within `ms` (a crash point reached), false otherwise. */
  async exitsWithin(ms: number): Promise<boolean> {
    if (!this.running) return true;
    const timer = new Promise<false>((resolve) => setTimeout(() => resolve(false), ms).unref());
    return Promise.race([this.exited.then(() => true as const), timer]);
  }

  /** SIGKILL, then wait until the process is gone. */
  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (graceful: finish or abort the open transaction), then wait. */
  async stop(): Promise<void> {
    this.signal('SIGCONT');
    this.signal('SIGTERM');
    await this.exited;
  }

  close(): void {
    this.log.end();
  }
}
