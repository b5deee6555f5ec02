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

/**
 * What runs when this process ends, in the order registered (a server's kill before its directory's removal).
 * One listener per event, put *before* any other: a test runner's own handler may call process.exit() inside
 * 'exit' or a signal handler, which skips every listener after it.
 */
const endings = new Set<() => void>();

function runEndings(): void {
  const now = [...endings];
  endings.clear();
  uninstall();
  for (const end of now) {
    try {
      end();
    } catch {
      // best effort: the process is ending
    }
  }
}

function onEndingSignal(signal: NodeJS.Signals): void {
  runEndings(); // uninstalls this listener too
  // Nothing else listens: end this process as the signal would have.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  process.prependListener('exit', runEndings);
  for (const signal of ENDING_SIGNALS) process.prependListener(signal, onEndingSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off('exit', runEndings);
  for (const signal of ENDING_SIGNALS) process.off(signal, onEndingSignal);
}

/** Runs `end` (synchronous) when this process exits or is ended by a signal; returns what cancels it. */
function onThisProcessEnd(end: () => void): () => void {
  endings.add(end);
  install();
  return () => {
    endings.delete(end);
    // No ending left: the signals act as they would without us.
    if (endings.size === 0) uninstall();
  };
}
