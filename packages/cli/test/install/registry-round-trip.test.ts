import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type NpmRegistry, startNpmRegistry } from './npm-registry.js';

/**
 * Exactly as a user gets it: every package published to a local npm registry, then installed into a fresh
 * application outside the workspace with npm and with pnpm, type-checked, its TestDriver test run, and the CLI
 * asked for its version.
 */
const exec = promisify(execFile);
const repository = fileURLToPath(new URL('../../../../', import.meta.url));
/** In dependency order: a package is published after the ones it depends on. */
const PACKAGES = ['core', 'read-committed', 'postgres', 'rabbitmq', 'runtime', 'testkit', 'cli'] as const;
/** What a production install must not bring: containers, SSH, native builds. */
const DEVELOPMENT_ONLY = ['testcontainers', 'ssh2', 'cpu-features', 'dockerode'];
const cliVersion = (
  JSON.parse(readFileSync(join(repository, 'packages/cli/package.json'), 'utf8')) as { version: string }
).version;

let registry: NpmRegistry;
let appsDir: string;

beforeAll(async () => {
  registry = await startNpmRegistry();
  appsDir = await mkdtemp(join(tmpdir(), 'exactly-apps-'));
  for (const name of PACKAGES) {
    // pnpm publish builds (prepack) and turns workspace:* into the published versions.
    await exec('pnpm', ['publish', '--registry', registry.url, '--no-git-checks'], {
      cwd: join(repository, 'packages', name),
      env: { ...process.env, NPM_CONFIG_USERCONFIG: registry.userConfig },
      maxBuffer: 16 << 20,
    });
  }
}, 300_000);

afterAll(async () => {
  await registry?.stop();
  if (appsDir) await rm(appsDir, { recursive: true, force: true });
});

describe.each([
  {
    manager: 'npm',
    add: ['install', '--no-audit', '--no-fund'],
    addDev: ['install', '--no-audit', '--no-fund', '--save-dev'],
    exec: ['exec', '--'],
  },
  { manager: 'pnpm', add: ['add'], addDev: ['add', '--save-dev'], exec: ['exec'] },
])('installed from a registry with $manager', ({ manager, add, addDev, exec: execArgs }) => {
  let app: string;
  const inApp = (command: string, args: string[]) =>
    exec(command, args, { cwd: app, env: applicationEnv(), maxBuffer: 16 << 20 });

  beforeAll(async () => {
    app = join(appsDir, manager);
    await writeApplication(app, registry.url);
    await inApp(manager, [...add, '@exactly/core', '@exactly/runtime', '@exactly/postgres', '@exactly/rabbitmq']);
    await inApp(manager, [
      ...addDev,
      '@exactly/testkit',
      '@exactly/cli',
      'typescript@5.9.3',
      '@types/node@22',
      'tsx@4',
    ]);
  }, 300_000);

  test('the application type-checks against the published types', async () => {
    await expect(inApp(manager, [...execArgs, 'tsc', '--noEmit', '-p', '.'])).resolves.toBeDefined();
  });

  test("the processor's TestDriver test runs and passes", async () => {
    const { stdout } = await inApp('node', [
      '--import',
      'tsx',
      '--test',
      '--test-reporter=tap',
      'test/doubler.test.ts',
    ]);
    expect(stdout).toMatch(/# pass 3\b/);
    expect(stdout).toMatch(/# fail 0\b/);
  });

  test('exactly --version prints the version; exactly run without brokers says how to give them', async () => {
    const { stdout } = await inApp(manager, [...execArgs, 'exactly', '--version']);
    expect(stdout.trim()).toBe(cliVersion);
    const failed = await inApp(manager, [...execArgs, 'exactly', 'run', 'src/doubler.ts']).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.stderr).toContain('no brokers: give them with --brokers');
  });

  test('no container, SSH or native-build dependency is installed', () => {
    const installed = installedPackages(app);
    for (const name of DEVELOPMENT_ONLY) expect(installed, name).not.toContain(name);
    expect(installed).toContain('@exactly/runtime');
  });
});

/** The environment of a user's shell: no workspace variables, the user's npm settings. */
function applicationEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (/^(npm_|pnpm_|VITEST|KAFKA_BROKERS)/i.test(key)) delete env[key];
  return env;
}

/** Names of every package in node_modules, hoisted (npm) or in pnpm's virtual store. */
function installedPackages(app: string): string[] {
  const names = new Set<string>();
  const collect = (modules: string) => {
    if (!existsSync(modules)) return;
    for (const entry of readdirSync(modules)) {
      if (entry.startsWith('.')) continue;
      if (entry.startsWith('@')) for (const inner of readdirSync(join(modules, entry))) names.add(`${entry}/${inner}`);
      else names.add(entry);
    }
  };
  collect(join(app, 'node_modules'));
  const virtualStore = join(app, 'node_modules', '.pnpm');
  if (existsSync(virtualStore)) {
    for (const entry of readdirSync(virtualStore)) collect(join(virtualStore, entry, 'node_modules'));
  }
  return [...names];
}

async function writeApplication(app: string, registryUrl: string): Promise<void> {
  await mkdir(join(app, 'src'), { recursive: true });
  await mkdir(join(app, 'test'), { recursive: true });
  const files: Record<string, string> = {
    '.npmrc': `registry=${registryUrl}\n`,
    'package.json': JSON.stringify({ name: 'my-service', private: true, type: 'module' }, null, 2),
    'tsconfig.json': JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
      },
      include: ['src', 'test'],
    }),
    'src/doubler.ts': `import { defineProcessor, json, string, topic } from '@exactly/core';

export default defineProcessor({
  id: 'doubler',
  input: topic('numbers', { key: string(), value: json<{ n: number }>() }),
  outputs: { doubled: topic('doubled', { key: string(), value: json<{ n: number }>() }) },
  handle: ({ key, value }) => ({ doubled: [{ key: key ?? 'none', value: { n: value.n * 2 } }] }),
});
`,
    'src/ledger.ts': `import { defineProcessor, json, string, topic } from '@exactly/core';
import { table } from '@exactly/postgres';

export default defineProcessor({
  id: 'ledger',
  input: topic('transfers', { key: string(), value: json<{ id: string; cents: number }>() }),
  outputs: { entries: table<{ transfer_id: string; cents: number }>('ledger_entries') },
  handle: ({ value }) => ({ entries: [{ value: { transfer_id: value.id, cents: value.cents } }] }),
});
`,
    'src/orders.ts': `import { defineProcessor, json, string, topic } from '@exactly/core';
import { exchange, queue } from '@exactly/rabbitmq';

export default defineProcessor({
  id: 'orders-in',
  input: queue('orders', { value: json<{ id: string; total: number }>() }),
  outputs: {
    orders: topic('orders', { key: string(), value: json<{ id: string; total: number }>() }),
    notify: exchange('notifications', { value: json<{ orderId: string }>(), routingKey: 'order.created' }),
  },
  handle: (record) => ({
    orders: [{ key: record.value.id, value: record.value }],
    notify: [{ value: { orderId: record.messageId } }],
  }),
});
`,
    'src/main.ts': `import { run } from '@exactly/runtime';
import doubler from './doubler.js';

const running = await run(doubler, { brokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092' });
process.once('SIGTERM', () => void running.stop());
`,
    'test/doubler.test.ts': `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TestDriver } from '@exactly/testkit';
import doubler from '../src/doubler.js';
import ledger from '../src/ledger.js';
import orders from '../src/orders.js';

test('doubles', async () => {
  const driver = new TestDriver(doubler);
  await driver.send('a', { n: 21 });
  assert.deepEqual(driver.output('doubled').map((r) => r.value), [{ n: 42 }]);
});

test('writes a ledger row', async () => {
  const driver = new TestDriver(ledger);
  await driver.send('t-1', { id: 't-1', cents: 5 });
  assert.deepEqual(driver.rows('entries'), [{ transfer_id: 't-1', cents: 5 }]);
});

test('takes an order from a queue once', async () => {
  const driver = new TestDriver(orders);
  await driver.publish({ id: 'o-1', total: 5 }, { messageId: 'm-1' });
  await driver.publish({ id: 'o-1', total: 5 }, { messageId: 'm-1' });
  assert.deepEqual(driver.output('orders').map((r) => r.key), ['o-1']);
  assert.deepEqual(driver.messages('notify').map((m) => m.value), [{ orderId: 'm-1' }]);
});
`,
  };
  for (const [path, text] of Object.entries(files)) await writeFile(join(app, path), text);
}
