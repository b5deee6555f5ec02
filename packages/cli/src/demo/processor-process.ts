import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin.js', import.meta.url));

/** The example's processor in a process of its own (`exactly run`), so the demo can kill it for real. */
export class ProcessorProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  /** Transactions of the processes that ended, so totals survive a restart. */
  private base = { committed: 0, aborted: 0, acknowledged: 0, duplicates: 0 };
  private last = { committed: 0, aborted: 0, acknowledged: 0, duplicates: 0, unacknowledged: 0 };
  output = '';

  constructor(
    private readonly mainFile: string,
    private readonly brokers: string,
    private readonly suffix: string,
    private readonly metricsPort: number,
  ) {}

  start(): void {
    this.base = {
      committed: this.base.committed + this.last.committed,
      aborted: this.base.aborted + this.last.aborted,
      acknowledged: this.base.acknowledged + this.last.acknowledged,
      duplicates: this.base.duplicates + this.last.duplicates,
    };
    this.last = { committed: 0, aborted: 0, acknowledged: 0, duplicates: 0, unacknowledged: 0 };
    const child = spawn(
      process.execPath,
      [
        bin,
        'run',
        this.mainFile,
        '--brokers',
        this.brokers,
        '--provenance',
        '--metrics-port',
        String(this.metricsPort),
        '--session-timeout',
        '6000',
        '--log-level',
        'warn',
        // The restarted processor is the same instance: it ends the killed one's open transaction at once.
        '--instance-id',
        'demo',
      ],
      { env: { ...process.env, EXACTLY_TOPIC_SUFFIX: this.suffix }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.child = child;
  }

  /** The process ended on its own with an error (not killed by the demo): its exit code, else undefined. */
  failedWith(): number | undefined {
    const code = this.child?.exitCode;
    return code !== null && code !== undefined && code !== 0 ? code : undefined;
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }

  /** Committed and aborted transactions over every process so far (from each one's /metrics). */
  async transactions(): Promise<{ committed: number; aborted: number }> {
    await this.scrape();
    return { committed: this.base.committed + this.last.committed, aborted: this.base.aborted + this.last.aborted };
  }

  /**
   * A queue input's messages acknowledged and duplicates recognised over every process so far (a killed one's
   * last few acknowledgements may be missed), and the messages the running one holds unacknowledged.
   */
  async queueMetrics(): Promise<{ acknowledged: number; duplicates: number; unacknowledged: number }> {
    await this.scrape();
    return {
      acknowledged: this.base.acknowledged + this.last.acknowledged,
      duplicates: this.base.duplicates + this.last.duplicates,
      unacknowledged: this.last.unacknowledged,
    };
  }

  private async scrape(): Promise<void> {
    try {
      const text = await (await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`)).text();
      const sum = (name: string) =>
        text
          .split('\n')
          .filter((line) => line.startsWith(name))
          .reduce((total, line) => total + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
      this.last = {
        committed: sum('exactly_transactions_committed_total'),
        aborted: sum('exactly_transactions_aborted_total'),
        acknowledged: sum('exactly_queue_messages_acknowledged_total'),
        duplicates: sum('exactly_queue_duplicates_total'),
        unacknowledged: sum('exactly_queue_unacknowledged_messages'),
      };
    } catch {
      // between processes: keep the last numbers
    }
  }
}
