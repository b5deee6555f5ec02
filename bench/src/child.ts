// A contender's process: started with its BENCH_* environment, sampled from /proc, stopped with SIGTERM.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readlinkSync } from 'node:fs';
import { childProcessesOf } from '@exactly/testkit';
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
    /** A file for the program's standard output (e.g. V8's --trace-gc lines); dropped without one. */
    stdoutFile?: string,
  ) {
    const { command, args } = contender.command(env);
    const stdout = stdoutFile === undefined ? 'ignore' : openSync(stdoutFile, 'a');
    // Spawned directly, without a shell: the pid is the program's own, so /proc shows the JVM or Node itself.
    this.child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', stdout, 'pipe'] });
    if (typeof stdout === 'number') closeSync(stdout); // the child has its own copy
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

  /**
   * The process and its child processes (a contender run with workers: the supervisor and each worker): CPU
   * summed over them (reaped ones included), peak RSS the largest of any one of them (the per-worker figure).
   */
  sample(): ProcessSample | undefined {
    const pid = this.child.pid;
    if (pid === undefined) return undefined;
    const own = processStat(pid);
    if (!own) return undefined;
    let cpuTicks = own.utime + own.stime + own.cutime + own.cstime;
    let peakRssKb = own.peakRssKb;
    for (const child of childProcessesOf(pid)) {
      const stat = processStat(child);
      if (!stat) continue;
      cpuTicks += stat.utime + stat.stime;
      peakRssKb = Math.max(peakRssKb, stat.peakRssKb);
    }
    return { peakRssKb, cpuTicks };
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

interface ProcessStat {
  readonly utime: number;
  readonly stime: number;
  /** Of its children that have exited and been reaped. */
  readonly cutime: number;
  readonly cstime: number;
  readonly peakRssKb: number;
}

function processStat(pid: number | string): ProcessStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    // Fields from the state (the 3rd) on: utime to cstime are the 14th to 17th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      utime: Number(fields[11]),
      stime: Number(fields[12]),
      cutime: Number(fields[13]),
      cstime: Number(fields[14]),
      peakRssKb: Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0),
    };
  } catch {
    return undefined;
  }
}

/**
 * CPU time (user + system, in clock ticks) of a server and its child processes: PostgreSQL's postmaster, its
 * backends and background workers (those that exited are in the postmaster's cutime and cstime, once reaped).
 * Undefined when `pid` is gone.
 */
export function processTreeCpuTicks(pid: number): number | undefined {
  const own = processStat(pid);
  if (!own) return undefined;
  let ticks = own.utime + own.stime + own.cutime + own.cstime;
  for (const child of childProcessesOf(pid)) {
    const stat = processStat(child);
    if (stat) ticks += stat.utime + stat.stime;
  }
  return ticks;
}
