import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { waitUntil } from '../src/index.js';
import { isAlive } from '../src/kafka/processes.js';

/** A test run ended by a signal (a `timeout`, Ctrl-C) must not leave its private servers running. */
const holder = fileURLToPath(new URL('./fixtures/hold-servers.ts', import.meta.url));

describe('private servers end with the process that started them', () => {
  test.each([
    ['SIGTERM', false],
    ['SIGINT', false],
    ['SIGTERM', true],
  ] as const)(
    'a %s to it ends its Kafka broker and its PostgreSQL, and removes their data (its own exit handlers first: %s)',
    async (signal, likeVitest) => {
      const child = spawn(process.execPath, ['--import', 'tsx', holder], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, EXIT_LIKE_VITEST: likeVitest ? '1' : '0' },
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      await waitUntil(() => out.includes('\n'), 'the servers started', 90_000);
      const pids = JSON.parse(out) as { kafka: number; postgres: number; dirs: string[] };
      expect(pids.dirs.every((dir) => existsSync(dir))).toBe(true);
      expect(isAlive(pids.kafka) && isAlive(pids.postgres)).toBe(true);
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, s) => resolve(s)));
      child.kill(signal);
      // Ended by the signal, as it would have been without the servers (or by its own handler's exit).
      const ended = await exited;
      if (!likeVitest) expect(ended).toBe(signal);
      await waitUntil(() => !isAlive(pids.kafka) && !isAlive(pids.postgres), 'both servers gone', 20_000);
      expect(pids.dirs.filter((dir) => existsSync(dir))).toEqual([]); // and their temporary directories
    },
    120_000,
  );
});
