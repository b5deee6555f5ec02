// A contender's process: started with its BENCH_* environment, sampled from /proc, stopped with SIGTERM.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { BenchEnv, Contender } from './contenders.js';

export interface ProcessSample {
  /** Peak resident set size so far (VmHWM), in kB. */
  readonly peakRssKb: number;
  /** CPU time (user + system, all threads) so far, in clock ticks. */
  readonly cpuTicks: number;
}

export const CLOCK_TICKS = 100; // Linux's USER_HZ

const running = new Set<ChildProcess>();
// A contender must not outlive an interrupted benchmark (Ctrl-C, an exception).
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export class ContenderProcess {
  private readonly child: ChildProcess;
  private stderr = '';
  private readonly exited: Promise<void>;

  constructor(
    readonly contender: Contender,
    env: BenchEnv,
  ) {
    const { command, args } = contender.command(env);
    // Spawned directly, without a shell: the pid is the program's own, so /proc shows the JVM or Node itself.
    this.child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    running.add(this.child);
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
    });
    this.child.on('error', (error) => {
      this.stderr += `\n${error.message}`;
    });
    this.exited = new Promise((resolve) =>
      this.child.once('close', () => {
        running.delete(this.child);
        resolve();
      }),
    );
  }

  /** The program under the sampled pid (/proc/<pid>/exe), e.g. the JVM's java; recorded as proof. */
  executable(): string {
    try {
      return readlinkSync(`/proc/${this.child.pid}/exe`);
    } catch {
      return 'unknown';
    }
  }

  /** Throws, with the tail of its stderr, if the process is gone. */
  assertRunning(): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null || this.child.pid === undefined)
      throw new Error(`${this.contender.name} exited early:\n${this.stderr.slice(-2000)}`);
  }

  sample(): ProcessSample | undefined {
    const pid = this.child.pid;
    if (pid === undefined) return undefined;
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return {
        peakRssKb: Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0),
        cpuTicks: Number(fields[11]) + Number(fields[12]), // utime, stime
      };
    } catch {
      return undefined;
    }
  }

  /** SIGTERM (a graceful stop), SIGKILL after 30 s. */
  async stop(): Promise<void> {
    const gone = this.child.exitCode !== null || this.child.signalCode !== null;
    if (gone || this.child.pid === undefined) return; // never started (e.g. java not on PATH), or already exited
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * CPU time (user + system, in clock ticks) of a server and its child processes: PostgreSQL's postmaster, its
 * backends and background workers (those that exited are in the postmaster's cutime and cstime, once reaped).
 * Undefined when `pid` is gone.
 */
export function processTreeCpuTicks(pid: number): number | undefined {
  const fieldsOf = (p: number | string): string[] | undefined => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    } catch {
      return undefined;
    }
  };
  const own = fieldsOf(pid);
  if (!own) return undefined;
  // utime, stime, cutime, cstime (fields 14-17 of stat; here from the state field, the 3rd, on).
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = fieldsOf(entry);
    if (fields && Number(fields[1]) === pid) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks;
}
