import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { MetricsSnapshot } from '../observability/metrics.js';

/**
 * What a supervisor puts in a worker's environment: `<k>/<n>` (the worker's number, from 1, of how many), and
 * the supervisor's own instance id, from which the worker's (`<instance>-w<k>`) is made. A worker is the same
 * program started again (as node:cluster does), and `run()` in it reads these to run one member of the group.
 */
export const WORKER_ENV = 'EXACTLY_WORKER';
export const WORKER_INSTANCE_ENV = 'EXACTLY_WORKER_INSTANCE';

/** An error as it crosses the process boundary: its class name and message, which the supervisor reports. */
export interface SentError {
  readonly name: string;
  readonly message: string;
}

export type ToWorker = { readonly type: 'stop' } | { readonly type: 'metrics'; readonly id: number };

export type FromWorker =
  /** Joined the group: start-up is over. */
  | { readonly type: 'started' }
  /** `run()` threw at start-up (configuration, Kafka unreachable): the supervisor stops the whole with it. */
  | { readonly type: 'failed'; readonly error: SentError }
  /** Stopped on an error after start-up (`done` rejected): the supervisor restarts it, or gives up. */
  | { readonly type: 'died'; readonly error: SentError }
  | {
      readonly type: 'metrics';
      readonly id: number;
      readonly metrics: MetricObjectWithValues<MetricValue<string>>[];
      readonly snapshot: MetricsSnapshot;
    };

export function sentError(error: unknown): SentError {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'Error', message: String(error) };
}
