import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cacheDir, freePort, waitUntil } from '@exactly/testkit';

const run = promisify(execFile);

/** Verdaccio, the local npm registry the install round trip publishes to. */
const VERDACCIO_VERSION = '6.10.4';

export interface NpmRegistry {
  /** e.g. `http://127.0.0.1:40123/` */
  readonly url: string;
  /** An npmrc (for NPM_CONFIG_USERCONFIG) with this registry and a token that may publish. */
  readonly userConfig: string;
  stop(): Promise<void>;
}

/**
 * A private npm registry on loopback: Verdaccio, installed once into the cache from the npm registry that npm is
 * configured with, which it also proxies for every package that is not `@exactly/*`. Storage is temporary.
 */
export async function startNpmRegistry(): Promise<NpmRegistry> {
  const bin = await installVerdaccio();
  const { stdout } = await run('npm', ['config', 'get', 'registry']);
  const upstream = stdout.trim();
  const dir = await mkdtemp(join(tmpdir(), 'exactly-npm-registry-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  await writeFile(
    join(dir, 'config.yaml'),
    [
      `storage: ${join(dir, 'storage')}`,
      'auth:',
      `  htpasswd: { file: ${join(dir, 'htpasswd')}, max_users: 10 }`,
      'uplinks:',
      `  upstream: { url: ${upstream}, timeout: 60s }`,
      'packages:',
      "  '@exactly/*': { access: $all, publish: $authenticated }",
      "  '**': { access: $all, proxy: upstream }",
      'log: { type: stdout, format: pretty, level: warn }',
      '',
    ].join('\n'),
  );
  const child = spawn(process.execPath, [bin, '--config', join(dir, 'config.yaml'), '--listen', `127.0.0.1:${port}`], {
    stdio: 'ignore',
  });
  const stop = async () => {
    await stopChild(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitUntil(
      async () => (await fetch(`${url}-/ping`).catch(() => undefined))?.ok === true,
      'the local npm registry answering',
      30_000,
    );
    const token = await createUser(url);
    const userConfig = join(dir, 'npmrc');
    await writeFile(userConfig, `registry=${url}\n//127.0.0.1:${port}/:_authToken=${token}\n`);
    return { url, userConfig, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function createUser(url: string): Promise<string> {
  const response = await fetch(`${url}-/user/org.couchdb.user:ci`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'ci', password: 'local-registry-only' }),
  });
  const body = (await response.json()) as { token?: string };
  if (!response.ok || !body.token) throw new Error(`the local registry refused a user: ${JSON.stringify(body)}`);
  return body.token;
}

/** Installs Verdaccio into the cache once; returns its entry script. */
async function installVerdaccio(): Promise<string> {
  const dir = join(cacheDir(), 'tools', `verdaccio-${VERDACCIO_VERSION}`);
  const bin = join(dir, 'node_modules', 'verdaccio', 'bin', 'verdaccio');
  if (existsSync(bin)) return bin;
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({
      name: 'exactly-verdaccio',
      private: true,
      dependencies: { verdaccio: VERDACCIO_VERSION },
      // verdaccio-audit asks for node-fetch by the dist-tag `cjs`, which not every registry mirror keeps.
      overrides: { 'verdaccio-audit': { 'node-fetch': '2.7.0' } },
    }),
  );
  await run('npm', ['install', '--no-audit', '--no-fund', '--omit=dev'], { cwd: dir, maxBuffer: 16 << 20 });
  return bin;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
