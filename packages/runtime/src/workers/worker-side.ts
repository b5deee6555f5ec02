import { join } from 'node:path';
import type { ResolvedOptions } from '../options.js';
import type { RunningProcessor } from '../run.js';
import { type FromWorker, sentError, type ToWorker, WORKER_ENV, WORKER_INSTANCE_ENV } from './protocol.js';

/** This process's place among a supervisor's workers, when a supervisor started it. */
export interface WorkerSlot {
  /** From 1. */
  readonly index: number;
  readonly count: number;
  /** The supervisor's instance id. */
  readonly instanceId: string;
}

/**
 * Reads (and removes, so that a process this one starts is not taken for a worker) the supervisor's variables.
 * Undefined in a process that no supervisor started.
 */
export function takeWorkerSlot(): WorkerSlot | undefined {
  const slot = process.env[WORKER_ENV];
  const instanceId = process.env[WORKER_INSTANCE_ENV];
  if (slot === undefined) return undefined;
  delete process.env[WORKER_ENV];
  delete process.env[WORKER_INSTANCE_ENV];
  const match = /^(\d+)\/(\d+)$/.exec(slot);
  if (!match || !instanceId || typeof process.send !== 'function')
    throw new Error(`${WORKER_ENV}=${slot} is set, but this process was not started by an Exactly supervisor`);
  return { index: Number(match[1]), count: Number(match[2]), instanceId };
}

/**
 * A worker's options: its own instance id (stable across its restarts, so that with KIP-447 its successor's
 * InitProducerId ends a dead worker's open transaction at once), its own local-state directory, and no metrics
 * server (the supervisor serves the whole's).
 */
export function workerOptions(resolved: ResolvedOptions, slot: WorkerSlot): ResolvedOptions {
  return {
    ...resolved,
    workers: 1,
    instanceId: `${slot.instanceId}-w${slot.index}`,
    metricsPort: undefined,
    stateDir: resolved.stateDir === undefined ? undefined : join(resolved.stateDir, `w${slot.index}`),
  };
}

function send(message: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected || typeof process.send !== 'function') return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

/** Tells the supervisor that start-up failed, before the error goes on to the program (which likely exits). */
export function reportStartFailure(error: unknown): Promise<void> {
  return send({ type: 'failed', error: sentError(error) });
}

/** The supervisor's channel, watched from the worker's first moment: `gone` aborts when it closes. */
export interface SupervisorWatch {
  readonly gone: AbortSignal;
}

/**
 * Watches the channel to the supervisor from before start-up: a supervisor killed while this worker starts must
 * end the start-up, not leave a worker that joins the group unsupervised (and, under the same instance id as
 * its successor, fences it again and again: chaos in CI found exactly that).
 */
export function watchSupervisor(): SupervisorWatch {
  const controller = new AbortController();
  const abort = () => controller.abort(new Error('the supervisor is gone: this worker stops'));
  if (!process.connected) abort();
  else process.once('disconnect', abort);
  return { gone: controller.signal };
}

/**
 * Connects a started worker to its supervisor: answers metrics requests, stops on its request or when it is
 * gone (a supervisor killed must not leave its workers running), and reports an error that stops the worker.
 */
export function serveSupervisor(app: RunningProcessor, supervisor: SupervisorWatch): void {
  // The channel must not keep the process alive once the processor has stopped.
  process.channel?.unref();
  const onMessage = (message: ToWorker) => {
    if (message.type === 'stop') void app.stop();
    else if (message.type === 'metrics')
      void Promise.all([app.registry.getMetricsAsJSON(), app.metrics()]).then(([metrics, snapshot]) =>
        send({ type: 'metrics', id: message.id, metrics, snapshot }),
      );
  };
  const onGone = () => void app.stop();
  process.on('message', onMessage);
  if (supervisor.gone.aborted) onGone();
  else supervisor.gone.addEventListener('abort', onGone, { once: true });
  const detach = () => {
    process.off('message', onMessage);
    supervisor.gone.removeEventListener('abort', onGone);
  };
  app.done.then(detach, (error: unknown) => {
    detach();
    void send({ type: 'died', error: sentError(error) });
  });
  void send({ type: 'started' });
}
