import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerEngineAnswers, loadTestcontainers } from '../docker.js';
import { cacheDir } from '../kafka/paths.js';
import { freePort } from '../kafka/ports.js';
import { removeWithThisProcess } from '../kafka/processes.js';
import { LocalRabbitMQ } from './local-rabbitmq.js';

export type RabbitMQKind = 'env' | 'docker' | 'local';

export interface RabbitMQ {
  /** An AMQP URL, `amqp://guest:guest@127.0.0.1:<port>/%2F` for the ones started here. */
  readonly url: string;
  readonly kind: RabbitMQKind;
  /** The local node, for tests that crash and restart it; absent for `env` and `docker`. */
  readonly local?: LocalRabbitMQ;
  /** Stops what this call started (nothing for `env`), and removes a private node's data. */
  stop(): Promise<void>;
}

export interface StartRabbitMQOptions {
  /**
   * `private` (default): a node for this caller alone, in a temporary directory, removed by stop().
   * `shared`: the one `exactly rabbitmq start` manages; reused when running, started detached otherwise.
   */
  readonly mode?: 'private' | 'shared';
  /** Ignore `RABBITMQ_URL` and Docker: always a local node (chaos tests that must crash it). */
  readonly localOnly?: boolean;
}

/** RabbitMQ's image, when a Docker engine runs it. */
const RABBITMQ_IMAGE = 'rabbitmq:3.13';

/** The shared node's AMQP port (5672, RabbitMQ's own, is left to a system or Docker broker). */
const SHARED_PORT = 5673;

/**
 * A real RabbitMQ: `RABBITMQ_URL` if set; else a Docker engine (testcontainers) if one answers; else a node from the
 * machine's `rabbitmq-server` package, on free loopback ports (see LocalRabbitMQ).
 */
export async function startRabbitMQ(options: StartRabbitMQOptions = {}): Promise<RabbitMQ> {
  const fromEnv = process.env.RABBITMQ_URL?.trim();
  if (fromEnv && !options.localOnly) return { url: fromEnv, kind: 'env', stop: async () => {} };
  if (!options.localOnly && process.env.EXACTLY_NO_DOCKER !== '1' && (await dockerEngineAnswers())) {
    return startInDocker();
  }
  if (options.mode === 'shared') {
    const dir = sharedRabbitMQDir();
    const node =
      (await LocalRabbitMQ.attach(dir)) ??
      (await LocalRabbitMQ.start({ dir, port: SHARED_PORT, nodeName: 'exactly@localhost', detached: true }));
    return { url: node.url, kind: 'local', local: node, stop: () => node.stop() };
  }
  const dir = await mkdtemp(join(tmpdir(), 'exactly-rabbitmq-'));
  const keep = removeWithThisProcess(dir); // after the node is ended, whether stop() runs or not
  try {
    const node = await LocalRabbitMQ.start({ dir });
    return {
      url: node.url,
      kind: 'local',
      local: node,
      stop: async () => {
        await node.stop();
        keep();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    keep();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** The running shared local RabbitMQ (`exactly rabbitmq start`), if any. */
export function findSharedRabbitMQ(): Promise<LocalRabbitMQ | undefined> {
  return LocalRabbitMQ.attach(sharedRabbitMQDir());
}

/** Where `exactly rabbitmq start` keeps its node: in the cache. */
export function sharedRabbitMQDir(): string {
  return join(cacheDir(), 'rabbitmq');
}

async function startInDocker(): Promise<RabbitMQ> {
  const { GenericContainer, Wait } = await loadTestcontainers();
  const port = await freePort();
  const container = await new GenericContainer(RABBITMQ_IMAGE)
    .withExposedPorts({ container: 5672, host: port })
    .withWaitStrategy(Wait.forLogMessage(/Server startup complete/))
    .start();
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}/%2F`,
    kind: 'docker',
    stop: async () => void (await container.stop()),
  };
}
