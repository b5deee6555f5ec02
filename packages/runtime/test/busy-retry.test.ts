import { describe, expect, it } from 'vitest';
import { BACKOFF, retryWhileBusy } from '../src/backoff.js';
import { ClientError } from '../src/port/errors.js';

const busy = () => new ClientError('retriable', 'CONCURRENT_TRANSACTIONS', 'the previous transaction is ending');

/** A call that fails with `errors` in turn, then answers 'done'; counts its calls. */
function failing(...errors: Error[]) {
  const call = async () => {
    call.calls++;
    const error = errors.shift();
    if (error) throw error;
    return 'done';
  };
  call.calls = 0;
  return call;
}

describe('retryWhileBusy: a busy transaction coordinator is waited for, not aborted for', () => {
  it('calls again while the broker answers CONCURRENT_TRANSACTIONS, more often than a client retries', async () => {
    const call = failing(...Array.from({ length: 12 }, busy));
    await expect(retryWhileBusy(call, performance.now() + 10_000)).resolves.toBe('done');
    expect(call.calls).toBe(13);
  });

  it('passes any other error on at once: only the busy answer is known to have changed nothing', async () => {
    const other = new ClientError('retriable', 'NOT_COORDINATOR', 'the coordinator moved');
    const call = failing(busy(), other);
    await expect(retryWhileBusy(call, performance.now() + 10_000)).rejects.toBe(other);
    expect(call.calls).toBe(2);
  });

  it('gives up once the time is spent, with the busy error (the engine then aborts and redoes the batch)', async () => {
    const call = failing(...Array.from({ length: 1000 }, busy));
    const started = performance.now();
    await expect(retryWhileBusy(call, started + 5 * BACKOFF.BUSY_MS)).rejects.toMatchObject({
      code: 'CONCURRENT_TRANSACTIONS',
    });
    expect(call.calls).toBeGreaterThan(1);
    expect(call.calls).toBeLessThan(1000);
    expect(performance.now() - started).toBeGreaterThanOrEqual(5 * BACKOFF.BUSY_MS - 1);
  });

  it('passes the busy error on when the call got further than the step that returns it (a send that produced)', async () => {
    const producedThenBusy = new ClientError('retriable', 'CONCURRENT_TRANSACTIONS', 'busy', {
      cause: { produced: { offsets: [] } },
    });
    const call = failing(producedThenBusy);
    const tookEffect = (error: ClientError) => (error.cause as { produced?: unknown }).produced !== undefined;
    await expect(retryWhileBusy(call, performance.now() + 10_000, tookEffect)).rejects.toBe(producedThenBusy);
    expect(call.calls).toBe(1);
  });

  it('shares one deadline between the calls of a transaction: a later call gets only what is left', async () => {
    const deadline = performance.now() + 20 * BACKOFF.BUSY_MS;
    const first = failing(...Array.from({ length: 10 }, busy));
    await retryWhileBusy(first, deadline);
    const second = failing(...Array.from({ length: 1000 }, busy));
    await expect(retryWhileBusy(second, deadline)).rejects.toMatchObject({ code: 'CONCURRENT_TRANSACTIONS' });
    // Each wait is at least BUSY_MS: about 10 waits were left, where a deadline of its own would allow 20.
    expect(second.calls).toBeLessThanOrEqual(12);
  });
});
