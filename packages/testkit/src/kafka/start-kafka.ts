import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KafkaSecurity } from '@exactly/core';
import { dockerEngineAnswers, loadTestcontainers } from '../docker.js';
import type { LocalBroker } from './local-broker.js';
import { LocalCluster } from './local-cluster.js';
import { cacheDir, KAFKA_VERSION, sharedBrokerDir, sharedSecureBrokerDir } from './paths.js';
import { freePort } from './ports.js';
import { removeWithThisProcess } from './processes.js';
import { prepareSecurity, type SecureSetup } from './secure.js';

export type KafkaKind = 'env' | 'docker' | 'local';

export interface Kafka {
  /** Bootstrap address(es), comma-separated, e.g. `127.0.0.1:9092`. */
  readonly brokers: string;
  /** Where it came from: `KAFKA_BROKERS`, a Docker container, or nodes on the local JVM. */
  readonly kind: KafkaKind;
  /** A one-node local Kafka's process, for tests that kill and restart it; absent for `env` and `docker`. */
  readonly local?: LocalBroker;
  /** The local nodes (one or more), for tests that kill and restart them; absent for `env` and `docker`. */
  readonly cluster?: LocalCluster;
  /** A secured local Kafka's users and files (with `secure: true`). */
  readonly secure?: SecuredKafka;
  /** Stops what this call started (nothing for `env`), and removes a private Kafka's data. */
  stop(): Promise<void>;
}

export interface StartKafkaOptions {
  /**
   * `private` (default): a Kafka for this caller alone, in a temporary directory, removed by stop().
   * `shared`: the one `exactly kafka start` manages; reused when running, started detached otherwise.
   */
  readonly mode?: 'private' | 'shared';
  /** Ignore `KAFKA_BROKERS` and Docker: always run local nodes (chaos tests that must kill them). */
  readonly localOnly?: boolean;
  /**
   * KRaft nodes to run locally. Default 1. With 3, internal and created topics have 3 replicas and need 2 in
   * sync; `brokers` lists all three.
   */
  readonly nodes?: number;
  /** Extra server.properties for every local node. */
  readonly config?: Readonly<Record<string, string>>;
  /**
   * A local one-node Kafka with a SASL_SSL listener (SCRAM-SHA-512, certificates made at start), the
   * StandardAuthorizer, an admin super user and an application user with no ACLs. Ignores `KAFKA_BROKERS`.
   */
  readonly secure?: boolean;
}

/** How to reach a secured local Kafka as its admin or as the application user. */
export interface SecuredKafka {
  /** Connection options of the admin (a super user) and of the application user: pass them to run(), the verifier. */
  readonly admin: { readonly brokers: string } & KafkaSecurity;
  readonly app: { readonly brokers: string } & KafkaSecurity;
  /** The application user by client certificate on the mutual-TLS listener (no SASL). */
  readonly appByCertificate: { readonly brokers: string } & KafkaSecurity;
  /** The PEM of the authority that signed the broker's certificate. */
  readonly caFile: string;
  /** client.properties files (Java names) for `exactly run --config`, and for Kafka's own tools. */
  readonly appProperties: string;
  readonly adminProperties: string;
}

/**
 * A real Kafka: `KAFKA_BROKERS` if set; else a Docker engine (testcontainers, image apache/kafka) if one
 * answers (one node); else KRaft nodes from Apache Kafka's jars on the local JVM (one, or `nodes`).
 */
export async function startKafka(options: StartKafkaOptions = {}): Promise<Kafka> {
  if (options.secure) return startSecureKafka(options);
  const nodes = options.nodes ?? 1;
  const fromEnv = process.env.KAFKA_BROKERS?.trim();
  if (fromEnv && !options.localOnly) return { brokers: fromEnv, kind: 'env', stop: async () => {} };
  if (nodes === 1 && !options.localOnly && process.env.EXACTLY_NO_DOCKER !== '1' && (await dockerEngineAnswers())) {
    return startInDocker();
  }
  if (options.mode === 'shared') {
    const running = await findSharedKafka();
    if (running && running.nodes.length !== nodes) {
      throw new Error(
        `a ${running.nodes.length}-node local Kafka is running at ${running.brokers}; stop it first (exactly kafka stop) to start one of ${nodes}`,
      );
    }
    const cluster =
      running ??
      (await LocalCluster.start({
        dir: sharedBrokerDir(nodes),
        nodes,
        port: 9092,
        detached: true,
        config: options.config,
      }));
    return local(cluster, () => cluster.stop());
  }
  const dir = await mkdtemp(join(tmpdir(), 'exactly-kafka-'));
  try {
    const cluster = await LocalCluster.start({ dir, nodes, config: options.config });
    const keep = removeWithThisProcess(dir); // after the nodes are killed, whether stop() runs or not
    return local(cluster, async () => {
      await cluster.stop();
      keep();
      await rm(dir, { recursive: true, force: true });
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function startSecureKafka(options: StartKafkaOptions): Promise<Kafka> {
  if ((options.nodes ?? 1) !== 1) throw new Error('a secured local Kafka has one node (nodes: 1)');
  const shared = options.mode === 'shared';
  const dir = shared ? sharedSecureBrokerDir() : await mkdtemp(join(tmpdir(), 'exactly-kafka-secure-'));
  try {
    const setup = await prepareSecurity(join(dir, 'security'));
    const cluster =
      (shared ? await LocalCluster.attach(dir) : undefined) ??
      (await LocalCluster.start({
        dir,
        nodes: 1,
        secure: setup,
        config: options.config,
        detached: shared,
        ...(shared ? { port: 9093 } : {}),
      }));
    const kafka = local(cluster, async () => {
      await cluster.stop();
      if (!shared) await rm(dir, { recursive: true, force: true });
    });
    return { ...kafka, secure: securedKafka(setup, cluster.brokers) };
  } catch (error) {
    if (!shared) await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

function securedKafka(setup: SecureSetup, brokers: string): SecuredKafka {
  const ssl = { ca: readFileSync(setup.caFile, 'utf8') };
  return {
    admin: { brokers, ssl, sasl: setup.admin },
    app: { brokers, ssl, sasl: setup.app },
    appByCertificate: {
      brokers: `127.0.0.1:${setup.mtlsPort}`,
      ssl: { ...ssl, cert: readFileSync(setup.clientCertFile, 'utf8'), key: readFileSync(setup.clientKeyFile, 'utf8') },
    },
    caFile: setup.caFile,
    appProperties: setup.appProperties,
    adminProperties: setup.adminProperties,
  };
}

/** The running shared secured local Kafka (`exactly kafka start --secure`), if any. */
export async function findSharedSecureKafka(): Promise<Kafka | undefined> {
  const dir = sharedSecureBrokerDir();
  const cluster = await LocalCluster.attach(dir);
  if (!cluster) return undefined;
  const setup = await prepareSecurity(join(dir, 'security'));
  return { ...local(cluster, () => cluster.stop()), secure: securedKafka(setup, cluster.brokers) };
}

function local(cluster: LocalCluster, stop: () => Promise<void>): Kafka {
  const single = cluster.nodes.length === 1 ? cluster.nodes[0] : undefined;
  return { brokers: cluster.brokers, kind: 'local', cluster, ...(single ? { local: single } : {}), stop };
}

/** The running shared local Kafka (`exactly kafka start`), of one node or several, if any. */
export async function findSharedKafka(): Promise<LocalCluster | undefined> {
  const candidates = [sharedBrokerDir(1)];
  const entries = await readdir(cacheDir()).catch(() => [] as string[]);
  for (const entry of entries) if (/^cluster-\d+$/.test(entry)) candidates.push(join(cacheDir(), entry));
  for (const dir of candidates) {
    const running = await LocalCluster.attach(dir);
    if (running) return running;
  }
  return undefined;
}

async function startInDocker(): Promise<Kafka> {
  const { GenericContainer, Wait } = await loadTestcontainers();
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
