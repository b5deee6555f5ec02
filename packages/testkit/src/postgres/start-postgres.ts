import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerEngineAnswers, loadTestcontainers } from '../docker.js';
import { cacheDir } from '../kafka/paths.js';
import { freePort } from '../kafka/ports.js';
import { removeWithThisProcess } from '../kafka/processes.js';
import { LocalPostgres } from './local-postgres.js';

export type PostgresKind = 'env' | 'docker' | 'local';

export interface Postgres {
  /** A connection URL, `postgres://user@host:port/database`. */
  readonly url: string;
  readonly kind: PostgresKind;
  /** The local server, for tests that crash and restart it; absent for `env` and `docker`. */
  readonly local?: LocalPostgres;
  /** Stops what this call started (nothing for `env`), and removes a private server's data. */
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /**
   * `private` (default): a server for this caller alone, in a temporary directory, removed by stop().
   * `shared`: the one `exactly postgres start` manages; reused when running, started detached otherwise.
   */
  readonly mode?: 'private' | 'shared';
  /** Ignore `DATABASE_URL` and Docker: always a local server (chaos tests that must crash it). */
  readonly localOnly?: boolean;
}

/** PostgreSQL's image, when a Docker engine runs it. */
const POSTGRES_IMAGE = 'postgres:15';

/**
 * A real PostgreSQL with two-phase commit on: `DATABASE_URL` if set; else a Docker engine (testcontainers) if
 * one answers; else a server from the machine's `postgresql` package, on a free loopback port.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<Postgres> {
  const fromEnv = process.env.DATABASE_URL?.trim();
  if (fromEnv && !options.localOnly) return { url: fromEnv, kind: 'env', stop: async () => {} };
  if (!options.localOnly && process.env.EXACTLY_NO_DOCKER !== '1' && (await dockerEngineAnswers())) {
    return startInDocker();
  }
  if (options.mode === 'shared') {
    const dir = sharedPostgresDir();
    const server =
      (await LocalPostgres.attach(dir)) ?? (await LocalPostgres.start({ dir, port: 5433, detached: true }));
    return { url: server.url, kind: 'local', local: server, stop: () => server.stop() };
  }
  // Under the system's temporary directory: the `postgres` user that runs it for root must reach it.
  const dir = await mkdtemp(join(tmpdir(), 'exactly-postgres-'));
  try {
    const server = await LocalPostgres.start({ dir });
    const keep = removeWithThisProcess(dir); // after the server is ended, whether stop() runs or not
    return {
      url: server.url,
      kind: 'local',
      local: server,
      stop: async () => {
        await server.stop();
        keep();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** The running shared local PostgreSQL (`exactly postgres start`), if any. */
export function findSharedPostgres(): Promise<LocalPostgres | undefined> {
  return LocalPostgres.attach(sharedPostgresDir());
}

/**
 * Where `exactly postgres start` keeps its server. In the cache, except for root, whose home the `postgres` user
 * (which runs the server for root) cannot enter: then /var/tmp.
 */
export function sharedPostgresDir(): string {
  return process.getuid?.() === 0 ? '/var/tmp/exactly-postgres' : join(cacheDir(), 'postgres');
}

async function startInDocker(): Promise<Postgres> {
  const { GenericContainer, Wait } = await loadTestcontainers();
  const port = await freePort();
  const container = await new GenericContainer(POSTGRES_IMAGE)
    .withExposedPorts({ container: 5432, host: port })
    .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
    .withCommand(['postgres', '-c', 'max_prepared_transactions=64'])
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    kind: 'docker',
    stop: async () => void (await container.stop()),
  };
}
