import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerEngineAnswers } from '../docker.js';
import { LocalBroker } from './local-broker.js';
import { KAFKA_VERSION, sharedBrokerDir } from './paths.js';
import { freePort } from './ports.js';

export type KafkaKind = 'env' | 'docker' | 'local';

export interface Kafka {
  /** Bootstrap address(es), comma-separated, e.g. `127.0.0.1:9092`. */
  readonly brokers: string;
  /** Where it came from: `KAFKA_BROKERS`, a Docker container, or a broker on the local JVM. */
  readonly kind: KafkaKind;
  /** The local broker process, for tests that kill and restart it; absent for `env` and `docker`. */
  readonly local?: LocalBroker;
  /** Stops what this call started (nothing for `env`), and removes a private broker's data. */
  stop(): Promise<void>;
}

export interface StartKafkaOptions {
  /**
   * `private` (default): a broker for this caller alone, in a temporary directory, removed by stop().
   * `shared`: the broker `exactly kafka start` manages; reused when running, started detached otherwise.
   */
  readonly mode?: 'private' | 'shared';
  /** Ignore `KAFKA_BROKERS` and Docker: always run a local broker (chaos tests that must kill it). */
  readonly localOnly?: boolean;
  /** Extra server.properties for a local broker. */
  readonly config?: Readonly<Record<string, string>>;
}

/**
 * A real Kafka: `KAFKA_BROKERS` if set; else a Docker engine (testcontainers, image apache/kafka) if one
 * answers; else a one-node KRaft broker from Apache Kafka's jars on the local JVM.
 */
export async function startKafka(options: StartKafkaOptions = {}): Promise<Kafka> {
  const fromEnv = process.env.KAFKA_BROKERS?.trim();
  if (fromEnv && !options.localOnly) return { brokers: fromEnv, kind: 'env', stop: async () => {} };
  if (!options.localOnly && process.env.EXACTLY_NO_DOCKER !== '1' && (await dockerEngineAnswers())) {
    return startInDocker();
  }
  if (options.mode === 'shared') {
    const dir = sharedBrokerDir();
    const broker =
      (await LocalBroker.attach(dir)) ??
      (await LocalBroker.start({ dir, port: 9092, detached: true, config: options.config }));
    return { brokers: broker.brokers, kind: 'local', local: broker, stop: () => broker.stop() };
  }
  const dir = await mkdtemp(join(tmpdir(), 'exactly-kafka-'));
  try {
    const broker = await LocalBroker.start({ dir, config: options.config });
    return {
      brokers: broker.brokers,
      kind: 'local',
      local: broker,
      stop: async () => {
        await broker.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** The running shared broker (`exactly kafka start`), if any. */
export async function findSharedKafka(): Promise<LocalBroker | undefined> {
  return LocalBroker.attach(sharedBrokerDir());
}

async function startInDocker(): Promise<Kafka> {
  const { GenericContainer, Wait } = await import('testcontainers');
  // The advertised address must be the one clients dial, so the host port is chosen before start.
  const port = await freePort();
  const container = await new GenericContainer(`apache/kafka:${KAFKA_VERSION}`)
    .withExposedPorts({ container: 9092, host: port })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093',
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${port}`,
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .start();
  return { brokers: `127.0.0.1:${port}`, kind: 'docker', stop: async () => void (await container.stop()) };
}
