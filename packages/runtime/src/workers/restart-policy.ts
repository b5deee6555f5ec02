import { backoffMs } from '../backoff.js';

/**
 * When a worker that died is started again: after the runtime's back-off, growing with its recent deaths; one
 * that dies `maxDeaths` times within `windowMs` is a fault a restart does not cure, and stops the whole.
 */
export const WORKER_RESTARTS = { MAX_DEATHS: 5, WINDOW_MS: 60_000 } as const;

export type AfterDeath =
  | { readonly restart: true; readonly inMs: number }
  | { readonly restart: false; readonly deaths: number; readonly windowMs: number };

export class RestartPolicy {
  private deaths: number[] = [];

  constructor(
    private readonly maxDeaths: number = WORKER_RESTARTS.MAX_DEATHS,
    private readonly windowMs: number = WORKER_RESTARTS.WINDOW_MS,
  ) {}

  died(now = Date.now()): AfterDeath {
    this.deaths = [...this.deaths.filter((t) => now - t < this.windowMs), now];
    if (this.deaths.length >= this.maxDeaths)
      return { restart: false, deaths: this.deaths.length, windowMs: this.windowMs };
    return { restart: true, inMs: backoffMs(this.deaths.length - 1) };
  }
}
