import { type ChildProcess, fork } from 'node:child_process';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Logger } from '../observability/logger.js';
import { startMetricsServer } from '../observability/metrics-server.js';
import type { ResolvedOptions } from '../options.js';
import type { RunningProcessor } from '../run.js';
import { sumSnapshots, WorkersRegistry } from './aggregate.js';
import { forwardLines } from './forward-lines.js';
import { workerExecArgv } from './heap.js';
import { type FromWorker, type SentError, type ToWorker, WORKER_ENV, WORKER_INSTANCE_ENV } from './protocol.js';
import { RestartPolicy } from './restart-policy.js';

/** How long a worker gets to finish its open transaction and leave the group before it is killed. */
const STOP_GRACE_MS = 60_000;

/** Raised by the supervisor when a worker cannot start, or keeps dying. */
export class WorkerFailedError extends Error {
  override readonly name = 'WorkerFailedError';
}

interface Slot {
  readonly index: number;
  child?: ChildProcess;
  /** Set once the current process has joined the group. */
  started: boolean;
  readonly restartPolicy: RestartPolicy;
  /** The error the worker reported before it exited. */
  reason?: string;
  /** It reported that run() threw at start-up (not a death by a signal, which is restarted like any other). */
  startFailed: boolean;
  /** Its last line on stderr that tells of an error (a log line at level error, or the CLI's message). */
  lastError?: string;
  restartTimer?: NodeJS.Timeout;
}

/**
 * Runs `count` workers, each this program started again (like node:cluster) with the supervisor's variables:
 * `run()` in each runs one member of the consumer group. Resolves once every worker has joined; rejects (after
 * stopping the others) if one fails to start. After that, a worker that dies is restarted under the same
 * instance id; repeated deaths stop the whole, and `done` rejects with the reason.
 */
export async function superviseWorkers(
  resolved: ResolvedOptions,
  count: number,
  log: Logger,
): Promise<RunningProcessor> {
  const program = process.argv[1];
  if (program === undefined)
    throw new WorkerFailedError('workers start this program again: run it from a file (node app.js, exactly run)');
  const own = new Registry();
  const running = new Gauge({ name: 'exactly_workers', help: 'Workers running now', registers: [own] });
  const restarts = new Counter({
    name: 'exactly_worker_restarts_total',
    help: 'Workers started again after they died',
    registers: [own],
  });
  const slots: Slot[] = Array.from({ length: count }, (_, i) => ({
    index: i + 1,
    started: false,
    restartPolicy: new RestartPolicy(),
    startFailed: false,
  }));
  let stopping = false;
  let settle: { resolve: () => void; reject: (error: Error) => void } | undefined;
  const done = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  done.catch(() => {}); // the caller's to observe; not an unhandled rejection if they do not
  let failure: Error | undefined;
  /** Set until every worker has joined once: a start-up that throws in a worker then fails the whole. */
  let startup: { resolve: () => void; reject: (error: Error) => void } | undefined;
  const allStarted = new Promise<void>((resolve, reject) => {
    startup = { resolve, reject };
  });

  const pending = new Map<
    number,
    {
      /** The workers asked that have neither answered nor exited. */
      waiting: Set<number>;
      replies: Extract<FromWorker, { type: 'metrics' }>[];
      done: () => void;
    }
  >();
  let nextRequest = 1;

  const spawn = (slot: Slot) => {
    const child = fork(program, process.argv.slice(2), {
      execArgv: workerExecArgv(process.execArgv, process.env.NODE_OPTIONS),
      env: { ...process.env, [WORKER_ENV]: `${slot.index}/${count}`, [WORKER_INSTANCE_ENV]: resolved.instanceId },
      // Piped, not inherited: a worker's stdout is then no terminal (no progress line of its own).
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    slot.child = child;
    slot.started = false;
    slot.lastError = undefined;
    if (child.stdout) forwardLines(child.stdout, process.stdout);
    if (child.stderr)
      forwardLines(child.stderr, process.stderr, (line) => {
        if (isErrorLine(line)) slot.lastError = line;
      });
    child.on('message', (message: FromWorker) => {
      if (message.type === 'started') {
        slot.started = true;
        running.set(slots.filter((s) => s.started).length);
        log.info({ worker: slot.index, pid: child.pid }, 'worker started');
        if (slots.every((s) => s.started)) {
          startup?.resolve();
          startup = undefined;
        }
      } else if (message.type === 'failed' || message.type === 'died') {
        slot.reason = describe(message.error);
        slot.startFailed = message.type === 'failed';
      } else if (message.type === 'metrics') {
        const request = pending.get(message.id);
        if (request) {
          request.replies.push(message);
          request.waiting.delete(slot.index);
          if (request.waiting.size === 0) request.done();
        }
      }
    });
    child.once('exit', (code, signal) => onExit(slot, child, code, signal));
    // A message to a worker that has just died fails here; its exit is handled above, and must not crash this.
    child.on('error', (error) => log.debug({ worker: slot.index, error: error.message }, 'worker channel error'));
  };

  const onExit = (slot: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null) => {
    if (slot.child !== child) return;
    slot.child = undefined;
    slot.started = false;
    running.set(slots.filter((s) => s.started).length);
    for (const request of pending.values()) {
      request.waiting.delete(slot.index);
      if (request.waiting.size === 0) request.done();
    }
    if (stopping) return;
    const how = signal ? `killed by ${signal}` : `exit code ${code}`;
    const why = slot.reason ?? slot.lastError;
    const last = why === undefined ? how : `${how}: ${why}`;
    const startFailed = slot.startFailed;
    slot.reason = undefined;
    slot.startFailed = false;
    if (startup && startFailed) {
      // run() threw in it at the whole's start-up: a configuration or connection problem every worker shares.
      void fail(new WorkerFailedError(`worker w${slot.index} failed to start (${last})`));
      return;
    }
    const next = slot.restartPolicy.died();
    if (!next.restart) {
      void fail(
        new WorkerFailedError(
          `worker w${slot.index} died ${next.deaths} times within ${next.windowMs / 1000} s; the last time: ${last}`,
        ),
      );
      return;
    }
    const waitMs = next.inMs;
    log.warn(
      { worker: slot.index, pid: child.pid, how, error: why, restartInMs: waitMs },
      'worker died; restarting it',
    );
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined;
      if (stopping) return;
      restarts.inc();
      spawn(slot);
    }, waitMs);
  };

  const stopAll = async () => {
    stopping = true;
    for (const slot of slots) clearTimeout(slot.restartTimer);
    await Promise.all(
      slots.map(async (slot) => {
        const child = slot.child;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        // A started worker stops gracefully on request; one still starting has nothing open yet.
        if (slot.started && child.connected) child.send({ type: 'stop' } satisfies ToWorker);
        else child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }),
    );
    running.set(0);
  };

  const fail = async (error: Error) => {
    if (failure || stopping) return;
    failure = error;
    log.error({ error: error.message }, 'workers stopped');
    await stopAll();
    await closeServer();
    // After the others have exited: a run() that rejects leaves no worker behind.
    startup?.reject(error);
    settle?.reject(error);
  };

  /** Every running worker's metrics, asked for over IPC (a worker that does not answer within 2 s is left out). */
  const gather = async (): Promise<Extract<FromWorker, { type: 'metrics' }>[]> => {
    const live = slots.filter((s) => s.started && s.child?.connected);
    if (live.length === 0) return [];
    const id = nextRequest++;
    const replies: Extract<FromWorker, { type: 'metrics' }>[] = [];
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      pending.set(id, {
        waiting: new Set(live.map((s) => s.index)),
        replies,
        done: () => {
          clearTimeout(timer);
          resolve();
        },
      });
      for (const slot of live) slot.child?.send({ type: 'metrics', id } satisfies ToWorker);
    });
    pending.delete(id);
    return replies;
  };
  const registry = new WorkersRegistry(async () => [
    await own.getMetricsAsJSON(),
    ...(await gather()).map((r) => r.metrics),
  ]);

  const server =
    resolved.metricsPort === undefined ? undefined : await startMetricsServer(registry, resolved.metricsPort);
  const closeServer = () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));

  const onAbort = () => void fail(new WorkerFailedError(`start-up aborted: ${String(resolved.signal?.reason)}`));
  resolved.signal?.addEventListener('abort', onAbort, { once: true });
  for (const slot of slots) spawn(slot);
  try {
    await allStarted;
  } finally {
    resolved.signal?.removeEventListener('abort', onAbort);
  }
  log.info({ workers: count, pids: slots.map((s) => s.child?.pid) }, 'workers started');
  return {
    stop: async () => {
      if (failure) return;
      await stopAll();
      await closeServer();
      settle?.resolve();
    },
    done,
    metrics: async () => sumSnapshots((await gather()).map((r) => r.snapshot)),
    registry,
  };
}

/** A JSON log line at level error or above, or a line that is not JSON (the CLI's `exactly: <message>`). */
function isErrorLine(line: string): boolean {
  if (!line.startsWith('{')) return line.trim() !== '';
  const level = /"level":(\d+)/.exec(line)?.[1];
  return level !== undefined && Number(level) >= 50;
}

function describe(error: SentError): string {
  return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message;
}
