import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { runMaven } from '../kafka/jars.js';
import { withDirLock } from '../kafka/lock.js';
import { cacheDir } from '../kafka/paths.js';
import { freePort } from '../kafka/ports.js';
import { startCcompatProxy } from './ccompat-proxy.js';

/**
 * Apicurio Registry, a real schema registry server with a Confluent-compatible API (`/apis/ccompat/v7`).
 * Maven Central publishes it ready to run (`apicurio-registry-app:<version>:tar.gz:all`). 3.0.9 is the newest
 * release that runs on Java 17 (3.3.x needs Java 21). Its parent POM is not published, so the tarball is
 * fetched with dependency:get 2.8 without resolving its descriptor.
 */
export const APICURIO_VERSION = '3.0.9';
const ARTIFACT = `io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`;

const START_TIMEOUT_MS = 90_000;

export interface ApicurioRegistry {
  /** The Confluent-compatible API's base URL, for Confluent clients. */
  readonly url: string;
  stop(): Promise<void>;
}

/** Fetches the registry once into the cache (shared by test workers, which wait for one fetch). */
export async function ensureApicurio(): Promise<string> {
  const home = join(cacheDir(), `apicurio-registry-${APICURIO_VERSION}`);
  const done = join(home, '.complete');
  if (existsSync(done)) return home;
  await mkdir(home, { recursive: true });
  return withDirLock(join(home, '.fetch.lock'), async () => {
    if (existsSync(done)) return home;
    const tarball = join(home, 'registry.tar.gz');
    await runMaven([
      '-q',
      '-B',
      'org.apache.maven.plugins:maven-dependency-plugin:2.8:get',
      `-Dartifact=${ARTIFACT}`,
      '-Dtransitive=false',
      `-Ddest=${tarball}`,
    ]);
    await run('tar', ['-xzf', tarball, '-C', home]);
    await rm(tarball, { force: true });
    if (!(await readdir(home)).some((name) => name.endsWith('-runner.jar')))
      throw new Error(`the Apicurio Registry tarball unpacked into ${home} holds no runner jar`);
    await writeFile(done, `${ARTIFACT}\n`);
    return home;
  });
}

/**
 * Starts Apicurio Registry on 127.0.0.1 with in-memory storage (empty at every start) and Confluent's default
 * compatibility rule, BACKWARD (Apicurio's own default is none). Killed with the process that started it.
 */
export async function startApicurio(): Promise<ApicurioRegistry> {
  const home = await ensureApicurio();
  const jar = (await readdir(home)).find((name) => name.endsWith('-runner.jar')) ?? '';
  const port = await freePort();
  const child = spawn(
    'java',
    // A small heap and the C1 compiler only: it starts in ~2 s and stays under 200 MB.
    ['-Xmx128m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xss512k', '-jar', jar],
    {
      cwd: home,
      env: {
        ...process.env,
        QUARKUS_HTTP_HOST: '127.0.0.1',
        QUARKUS_HTTP_PORT: String(port),
        APICURIO_RULES_GLOBAL_COMPATIBILITY: 'BACKWARD',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    process.off('exit', kill);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const gone = await Promise.race([exited.then(() => true), delay(10_000).then(() => false)]);
    if (!gone) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  const direct = `http://127.0.0.1:${port}/apis/ccompat/v7`;
  try {
    await waitUntilServing(child, `${direct}/subjects`, () => output);
    // The environment variable enforces BACKWARD, but 3.0.9 still reports NONE until the level is set here.
    const setLevel = await fetch(`${direct}/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ compatibility: 'BACKWARD' }),
    });
    if (!setLevel.ok) throw new Error(`Apicurio refused the global compatibility level: ${await setLevel.text()}`);
  } catch (error) {
    await stop();
    throw error;
  }
  const proxy = await startCcompatProxy(new URL(direct));
  return {
    url: `http://127.0.0.1:${proxy.port}/apis/ccompat/v7`,
    stop: async () => {
      await proxy.close();
      await stop();
    },
  };
}

async function waitUntilServing(child: ChildProcess, probe: string, output: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `Apicurio Registry exited during start-up (${child.exitCode ?? child.signalCode}):\n${tail(output())}`,
      );
    }
    try {
      if ((await fetch(probe)).ok) return;
    } catch {
      // not listening yet
    }
    await delay(100);
  }
  throw new Error(`Apicurio Registry did not answer ${probe} within ${START_TIMEOUT_MS / 1000} s:\n${tail(output())}`);
}

const tail = (text: string) => text.split('\n').slice(-30).join('\n');

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')}: ${errors}`))));
  });
}
