import { setTimeout as delay } from 'node:timers/promises';
import { ClientError } from './port/errors.js';

/**
 * The runtime's one back-off policy, for every wait before trying again: the engine after a failed
 * transaction, start-up while the broker is away, the adapters' own retry loops, and the settings handed to
 * each client library's internal retries.
 * - After a commit the broker still writes the transaction's markers for a moment, and the next transaction
 *   meets CONCURRENT_TRANSACTIONS: that is retried after BUSY_MS (the Java client waits ~20 ms), for as long as
 *   it lasts (retryWhileBusy). A second's wait there cost a tenth of the throughput in our measurements.
 * - Anything else (a leader moving, a coordinator loading, a broker restarting, a transaction aborted): from
 *   FIRST_MS, doubling, capped at MAX_MS.
 */
export const BACKOFF = {
  FIRST_MS: 50,
  MAX_MS: 5000,
  BUSY_MS: 10,
} as const;

/** The wait before retry number `attempt` (from 0). `busy`: the broker is finishing the previous transaction. */
export function backoffMs(attempt: number, busy = false): number {
  if (busy) return BACKOFF.BUSY_MS;
  return Math.min(BACKOFF.MAX_MS, BACKOFF.FIRST_MS * 2 ** Math.min(Math.max(0, attempt), 16));
}

/** Whether `error` is the broker still ending this producer's previous transaction: then BUSY_MS applies. */
export function isBusyCoordinator(error: unknown): error is ClientError {
  return error instanceof ClientError && error.code === 'CONCURRENT_TRANSACTIONS';
}

/**
 * Calls `call` again every BUSY_MS while it fails with CONCURRENT_TRANSACTIONS (the broker still ending this
 * producer's previous transaction), until `deadline` (a performance.now() time: one per transaction, shared by
 * its calls). AddPartitionsToTxn, AddOffsetsToTxn and TxnOffsetCommit return it before anything of the call took
 * effect; where a call does more than that (a send is AddPartitionsToTxn, then produce), `tookEffect` tells
 * whether it got further, and then the error is passed on. Markers to a hundred partitions or more can take
 * longer than a client's few retries: at 96 partitions and two workers a transaction a second was aborted and
 * redone for it, which made the latency's tail (p99 0.7-1.7 s).
 */
export async function retryWhileBusy<T>(
  call: () => Promise<T>,
  deadline: number,
  tookEffect: (error: ClientError) => boolean = () => false,
): Promise<T> {
  for (;;) {
    try {
      return await call();
    } catch (error) {
      const busy = isBusyCoordinator(error) && !tookEffect(error);
      if (!busy || performance.now() >= deadline) throw error;
      await delay(backoffMs(0, true));
    }
  }
}
