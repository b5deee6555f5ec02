import { dockerEngineAnswers, loadTestcontainers } from '../docker.js';
import { KAFKA_VERSION } from '../kafka/paths.js';
import { startApicurio } from './apicurio.js';
import { TestSchemaRegistry } from './test-registry.js';

export type SchemaRegistryKind = 'env' | 'docker' | 'apicurio' | 'test-registry';

export interface SchemaRegistryServer {
  /** Base URL for clients, e.g. `confluentSchemaRegistry({ url })`. */
  readonly url: string;
  /**
   * `env`: SCHEMA_REGISTRY_URL; `docker`: Confluent's image; `apicurio`: Apicurio Registry from Maven Central on
   * the local JVM; `test-registry`: testkit's own test double (only when asked for).
   */
  readonly kind: SchemaRegistryKind;
  /** Stops what this call started (nothing for `env`). */
  stop(): Promise<void>;
}

/** Confluent's registry image, the version docker-compose.yml runs. */
const REGISTRY_IMAGE = 'confluentinc/cp-schema-registry:7.9.0';

/**
 * A real schema registry for tests: `SCHEMA_REGISTRY_URL` if set; else Confluent's image if a Docker engine
 * answers (with a Kafka container for its storage); else Apicurio Registry (fetched once with Maven, run on
 * the local JVM, on 127.0.0.1). `EXACTLY_SCHEMA_REGISTRY=test-registry` asks for testkit's own test double
 * instead (a machine without Java); name tests after `kind`.
 */
export async function startSchemaRegistry(): Promise<SchemaRegistryServer> {
  const fromEnv = process.env.SCHEMA_REGISTRY_URL?.trim();
  if (fromEnv) return { url: fromEnv.replace(/\/+$/, ''), kind: 'env', stop: async () => {} };
  if (process.env.EXACTLY_SCHEMA_REGISTRY === 'test-registry') {
    const registry = await TestSchemaRegistry.start();
    return { url: registry.url, kind: 'test-registry', stop: () => registry.stop() };
  }
  if (process.env.EXACTLY_NO_DOCKER !== '1' && (await dockerEngineAnswers(1000))) return startInDocker();
  const registry = await startApicurio();
  return { url: registry.url, kind: 'apicurio', stop: () => registry.stop() };
}

/** How a test names the registry it ran against. */
export function registryLabel(server: SchemaRegistryServer): string {
  switch (server.kind) {
    case 'env':
      return 'against SCHEMA_REGISTRY_URL';
    case 'docker':
      return 'against a Confluent registry in Docker';
    case 'apicurio':
      return 'against Apicurio Registry (real server, Confluent-compatible API)';
    default:
      return 'against the test registry';
  }
}

async function startInDocker(): Promise<SchemaRegistryServer> {
  const { GenericContainer, Network, Wait } = await loadTestcontainers();
  const network = await new Network().start();
  const started: Array<{ stop(): Promise<unknown> }> = [];
  const stop = async () => {
    for (const container of started.reverse()) await container.stop();
    await network.stop();
  };
  try {
    // The registry keeps its schemas in a Kafka topic, so it needs a broker it can reach by name.
    const kafka = await new GenericContainer(`apache/kafka:${KAFKA_VERSION}`)
      .withNetwork(network)
      .withNetworkAliases('kafka')
      .withEnvironment({
        KAFKA_NODE_ID: '1',
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_LISTENERS: 'PLAINTEXT://:19092,CONTROLLER://:9093',
        KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://kafka:19092',
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      })
      .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
      .start();
    started.push(kafka);
    const registry = await new GenericContainer(REGISTRY_IMAGE)
      .withNetwork(network)
      .withExposedPorts(8081)
      .withEnvironment({
        SCHEMA_REGISTRY_HOST_NAME: 'schema-registry',
        SCHEMA_REGISTRY_LISTENERS: 'http://0.0.0.0:8081',
        SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS: 'PLAINTEXT://kafka:19092',
        SCHEMA_REGISTRY_KAFKASTORE_TOPIC_REPLICATION_FACTOR: '1',
      })
      .withWaitStrategy(Wait.forHttp('/subjects', 8081))
      .start();
    started.push(registry);
    return { url: `http://${registry.getHost()}:${registry.getMappedPort(8081)}`, kind: 'docker', stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
