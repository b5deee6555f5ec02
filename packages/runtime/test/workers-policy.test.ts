import { PassThrough } from 'node:stream';
import { defineProcessor, json, topic } from '@exactly/core';
import { queue } from '@exactly/rabbitmq';
import { describe, expect, it } from 'vitest';
import { BACKOFF } from '../src/backoff.js';
import type { MetricsSnapshot } from '../src/observability/metrics.js';
import { run } from '../src/run.js';
import { sumSnapshots } from '../src/workers/aggregate.js';
import { autoWorkers } from '../src/workers/auto.js';
import { forwardLines } from '../src/workers/forward-lines.js';
import { workerExecArgv } from '../src/workers/heap.js';
import { RestartPolicy, WORKER_RESTARTS } from '../src/workers/restart-policy.js';

describe('workers: the supervisor’s policies, without processes', () => {
  it('restarts a dead worker after the back-off, and gives up at the fifth death within a minute', () => {
    const policy = new RestartPolicy();
    const t0 = 1_000_000;
    expect(policy.died(t0)).toEqual({ restart: true, inMs: BACKOFF.FIRST_MS });
    expect(policy.died(t0 + 1000)).toEqual({ restart: true, inMs: 2 * BACKOFF.FIRST_MS });
    expect(policy.died(t0 + 2000)).toEqual({ restart: true, inMs: 4 * BACKOFF.FIRST_MS });
    expect(policy.died(t0 + 3000)).toEqual({ restart: true, inMs: 8 * BACKOFF.FIRST_MS });
    expect(policy.died(t0 + 4000)).toEqual({
      restart: false,
      deaths: WORKER_RESTARTS.MAX_DEATHS,
      windowMs: WORKER_RESTARTS.WINDOW_MS,
    });
  });

  it('forgets deaths older than the window: a worker that dies now and then is always restarted', () => {
    const policy = new RestartPolicy();
    for (let death = 0; death < 20; death++) {
      expect(policy.died(death * (WORKER_RESTARTS.WINDOW_MS / 2)).restart).toBe(true);
    }
  });

  it("'auto' is one worker per core, at most one per input partition, at least one", () => {
    expect(autoWorkers(6, 2)).toBe(2);
    expect(autoWorkers(1, 8)).toBe(1);
    expect(autoWorkers(24, 16)).toBe(16);
    expect(autoWorkers(0, 4)).toBe(1);
  });

  it("the whole's counters are the workers' sums; the mean delay leaves out workers without one", () => {
    const snapshot = (n: number, queueDelayMs: number): MetricsSnapshot => ({
      recordsIn: n,
      recordsOut: 2 * n,
      deadLetters: 1,
      transactionsCommitted: 3,
      transactionsAborted: 0,
      lag: 5,
      peakInFlightRecords: 10,
      queueAcknowledged: 0,
      queueDuplicates: 0,
      queueUnacknowledged: 0,
      queueDelayMs,
      exchangeMessagesPublished: 0,
    });
    expect(sumSnapshots([snapshot(100, 20), snapshot(50, Number.NaN), snapshot(10, 40)])).toMatchObject({
      recordsIn: 160,
      recordsOut: 320,
      deadLetters: 3,
      transactionsCommitted: 9,
      lag: 15,
      peakInFlightRecords: 30,
      queueDelayMs: 30,
    });
    expect(sumSnapshots([]).queueDelayMs).toBeNaN();
  });

  it("a worker's output is passed on a whole line at a time, the last line even without its newline", async () => {
    const from = new PassThrough();
    const to = new PassThrough();
    const written: string[] = [];
    to.on('data', (chunk: Buffer) => written.push(chunk.toString()));
    const lines: string[] = [];
    forwardLines(from, to, (line) => lines.push(line));
    from.write('{"a":');
    from.write('1}\n{"b"');
    from.write(':2}\nlast');
    from.end();
    await new Promise((resolve) => from.on('end', resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(written).toEqual(['{"a":1}\n', '{"b":2}\n', 'last\n']);
    expect(lines).toEqual(['{"a":1}', '{"b":2}', 'last']);
  });

  it('a queue input refuses more than one worker before it connects to anything, saying why', async () => {
    const processor = defineProcessor({
      id: 'queue-workers',
      input: queue('orders', { value: json<{ id: string }>() }),
      outputs: { orders: topic('orders', { value: json<{ id: string }>() }) },
      handle: (record) => ({ orders: [{ value: record.value }] }),
    });
    await expect(
      run(processor, { brokers: '127.0.0.1:1', rabbitmq: 'amqp://127.0.0.1:1', workers: 2 }),
    ).rejects.toThrow(/queue 'orders' has one active consumer at a time \(single active consumer\)/);
  });

  it('a workers option that is not a count or auto stops at start', async () => {
    const processor = defineProcessor({
      id: 'bad-workers',
      input: topic('in', { value: json<unknown>() }),
      outputs: { out: topic('out', { value: json<unknown>() }) },
      handle: () => ({}),
    });
    await expect(run(processor, { brokers: '127.0.0.1:1', workers: 0 })).rejects.toThrow(
      /workers: must be a whole number of at least 1, or 'auto' \(got 0\)/,
    );
  });

  it("a worker's young generation is 8 MB unless the program's own flags or NODE_OPTIONS size the heap", () => {
    expect(workerExecArgv(['--enable-source-maps'])).toEqual(['--enable-source-maps', '--max-semi-space-size=8']);
    expect(workerExecArgv([], '--max-old-space-size=512')).toEqual(['--max-semi-space-size=8']);
    expect(workerExecArgv(['--max-semi-space-size=32'])).toEqual(['--max-semi-space-size=32']);
    expect(workerExecArgv(['--max_semi_space_size', '64'])).toEqual(['--max_semi_space_size', '64']);
    expect(workerExecArgv([], '--max-heap-size=300')).toEqual([]);
    expect(workerExecArgv([], '--max-semi-space-size=4 --trace-warnings')).toEqual([]);
  });
});
