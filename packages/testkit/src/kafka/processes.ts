import { readFileSync, rmSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

/** True while `pid` is a live process (a zombie awaiting its parent counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/** The command line of `pid`, to check a PID from a state file still names our process and not a reused PID. */
export function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return undefined;
  }
}

export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await delay(50);
  }
  return !isAlive(pid);
}

/** Sends `signal`, then SIGKILL if the process is still there after `graceMs`. Resolves when it is gone. */
export async function terminate(pid: number, signal: NodeJS.Signals = 'SIGTERM', graceMs = 30_000): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  if (await waitForExit(pid, graceMs)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  if (!(await waitForExit(pid, 10_000))) throw new Error(`process ${pid} did not exit after SIGKILL`);
}

const ENDING_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/**
 * Ties a child server (a private broker, a test database) to this process: it is killed with `signal` when this
 * process exits, and also when this process is ended by a signal (Node then skips 'exit': a test run stopped by
 * `timeout` or Ctrl-C used to leave its broker running). The signal is then passed on as it would have acted.
 * Returns the function that unties it (on a clean stop).
 */
export function tieToThisProcess(pid: number, signal: NodeJS.Signals): () => void {
  return onThisProcessEnd(() => {
    try {
      process.kill(pid, signal);
    } catch {
      return; // already gone
    }
    // Synchronously (this process is ending): a few seconds for it to go, so that its files can be removed after.
    const deadline = Date.now() + 5000;
    const pause = new Int32Array(new SharedArrayBuffer(4));
    while (isAlive(pid) && Date.now() < deadline) Atomics.wait(pause, 0, 0, 20);
  });
}

/** A private server's temporary directory goes when this process ends, however it ends (see tieToThisProcess). */
export function removeWithThisProcess(dir: string): () => void {
  return onThisProcessEnd(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 }));
}

/** Runs `end` (synchronous) when this process exits or is ended by a signal; returns what cancels it. */
function onThisProcessEnd(end: () => void): () => void {
  const kill = () => {
    try {
      end();
    } catch {
      // best effort: the process is ending
    }
  };
  const onSignal = (received: NodeJS.Signals) => {
    untie();
    kill();
    // Nothing else listens: end this process as the signal would have.
    if (process.listenerCount(received) === 0) process.kill(process.pid, received);
  };
  const untie = () => {
    process.off('exit', kill);
    for (const ending of ENDING_SIGNALS) process.off(ending, onSignal);
  };
  process.once('exit', kill);
  for (const ending of ENDING_SIGNALS) process.once(ending, onSignal);
  return untie;
}
