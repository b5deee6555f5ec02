import { readdirSync, readFileSync } from 'node:fs';
import {
  freePort,
  generateRecords,
  groupLag,
  uniqueTopic,
  verifyExactlyOnce,
  waitForGroupCaughtUp,
  waitUntil,
} from '@exactly/testkit';
import { describe, expect, inject, it } from 'vitest';
import { freshTopics } from './helpers.js';
import { FAST, kill9, spawnFanOut } from './processes.js';

const brokers = inject('kafkaBrokers');

/**
 * The `exactly run` processes whose environment holds `name=value` (a supervisor and its workers; not the
 * esbuild service a TypeScript import starts): how a test finds workers, even ones a supervisor left behind.
 */
function runsWith(name: string, value: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0');
      const command = readFileSync(`/proc/${entry}/cmdline`, 'latin1').split('\0');
      if (environ.includes(`${name}=${value}`) && command.includes('run')) found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

async function scrape(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(\w+)(?:\{[^}]*\})? (\S+)$/.exec(line);
    if (match?.[1] && match[2]) values.set(match[1], (values.get(match[1]) ?? 0) + Number(match[2]));
  }
  return values;
}

describe('exactly run --workers (real broker, default client)', () => {
  it('two workers share the group; a SIGKILLed worker is restarted under its id; one SIGTERM stops all; each record once', async () => {
    const topics = await freshTopics(brokers, 'workers', 6);
    const total = 20_000;
    await generateRecords({ brokers, topic: topics.input, count: total });
    const port = await freePort();
    const supervisor = spawnFanOut(brokers, topics, {
      instance: 'wk',
      args: [...FAST, '--workers', '2', '--metrics-port', String(port)],
    });
    try {
      await waitUntil(
        async () => (await scrape(port).catch(() => new Map())).get('exactly_workers') === 2,
        'workers up',
        60_000,
      );
      const workers = runsWith('EXACTLY_TEST_ID', topics.id).filter((pid) => pid !== supervisor.child.pid);
      expect(workers).toHaveLength(2);
      // Each worker runs with the smaller young generation (the supervisor itself was started without it).
      for (const pid of workers)
        expect(readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')).toContain('--max-semi-space-size=8');
      await waitUntil(async () => (await groupLag(brokers, topics.id, topics.input)) < total, 'progress', 60_000);
      process.kill(workers[0] as number, 'SIGKILL');
      await waitUntil(
        async () => {
          const metrics = await scrape(port);
          return metrics.get('exactly_worker_restarts_total') === 1 && metrics.get('exactly_workers') === 2;
        },
        'the dead worker restarted',
        60_000,
      );
      await waitForGroupCaughtUp(brokers, topics.id, topics.input, 120_000);
      // One endpoint for the whole: the workers' partitions add up to the input's.
      expect((await scrape(port)).get('exactly_assigned_partitions')).toBe(6);
      expect(supervisor.output()).toContain('worker died; restarting it');
    } finally {
      supervisor.child.kill('SIGTERM');
    }
    expect(await supervisor.exited).toBe(0);
    expect(runsWith('EXACTLY_TEST_ID', topics.id)).toEqual([]);
    // The worker's producer came back under its own transactional.id (KIP-447: its successor fenced it).
    const epochs = [
      ...supervisor.output().matchAll(new RegExp(`"transactionalId":"${topics.id}\\.wk-w(\\d)".*?"epoch":(\\d+)`, 'g')),
    ];
    expect(new Set(epochs.map((m) => m[1]))).toEqual(new Set(['1', '2']));
    expect(epochs.some((m) => Number(m[2]) > 0)).toBe(true);
    const verdict = await verifyExactlyOnce({ brokers, input: topics.input, outputs: [topics.left, topics.right] });
    expect(verdict).toMatchObject({ ok: true, inputs: total, missing: 0, duplicated: 0, abortedRead: 0 });
  });

  it('a worker that cannot start stops the whole with its reason, and leaves no process behind', async () => {
    const id = uniqueTopic('workers-missing');
    const topics = { id, input: `${id}.in`, left: `${id}.left`, right: `${id}.right` };
    const supervisor = spawnFanOut(brokers, topics, { args: [...FAST, '--workers', '2'] });
    expect(await supervisor.exited).toBe(1);
    expect(supervisor.output()).toMatch(/worker w\d failed to start \(exit code 1: .*these topics do not exist/);
    expect(runsWith('EXACTLY_TEST_ID', id)).toEqual([]);
  });

  it('a worker that keeps dying stops the whole, saying so', async () => {
    const topics = await freshTopics(brokers, 'workers-dying', 2);
    const supervisor = spawnFanOut(brokers, topics, {
      args: [...FAST, '--workers', '2'],
      env: { EXACTLY_TEST_WORKER_DIES_AFTER_MS: '1200' },
    });
    try {
      expect(await supervisor.exited).toBe(1);
    } finally {
      if (supervisor.child.exitCode === null) await kill9(supervisor);
    }
    expect(supervisor.output()).toMatch(/worker w\d died 5 times within 60 s; the last time: killed by SIGKILL/);
    expect(runsWith('EXACTLY_TEST_ID', topics.id)).toEqual([]);
  });

  it('a supervisor killed hard takes its workers with it: none runs on unsupervised', async () => {
    const topics = await freshTopics(brokers, 'workers-orphans', 2);
    const port = await freePort();
    const supervisor = spawnFanOut(brokers, topics, {
      args: [...FAST, '--workers', '2', '--metrics-port', String(port)],
    });
    await waitUntil(
      async () => (await scrape(port).catch(() => new Map())).get('exactly_workers') === 2,
      'workers up',
      60_000,
    );
    expect(runsWith('EXACTLY_TEST_ID', topics.id)).toHaveLength(3);
    await kill9(supervisor);
    await waitUntil(async () => runsWith('EXACTLY_TEST_ID', topics.id).length === 0, 'workers gone', 30_000);
  });

  it('a supervisor killed while its workers still start ends their start-up: none joins the group unsupervised', async () => {
    const id = uniqueTopic('workers-starting');
    const topics = { id, input: `${id}.in`, left: `${id}.left`, right: `${id}.right` };
    // Nothing answers there: the workers retry their start-up (for a minute) until their supervisor goes.
    const supervisor = spawnFanOut('127.0.0.1:1', topics, { args: [...FAST, '--workers', '2'] });
    await waitUntil(async () => runsWith('EXACTLY_TEST_ID', id).length === 3, 'workers starting', 30_000);
    await kill9(supervisor);
    await waitUntil(async () => runsWith('EXACTLY_TEST_ID', id).length === 0, 'workers gone', 15_000);
  });
});
