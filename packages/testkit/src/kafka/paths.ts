import { homedir } from 'node:os';
import { join } from 'node:path';

/** Apache Kafka version run locally; the jars come from Maven Central as org.apache.kafka:kafka_2.13. */
export const KAFKA_VERSION = '4.1.1';

/**
 * Everything Exactly keeps outside the repo: the Kafka jars and the state of the broker that
 * `exactly kafka start` leaves running. `EXACTLY_CACHE_DIR` moves it; otherwise XDG's cache dir.
 */
export function cacheDir(): string {
  if (process.env.EXACTLY_CACHE_DIR) return process.env.EXACTLY_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'exactly');
}

export const jarsDir = (version = KAFKA_VERSION): string => join(cacheDir(), `kafka-${version}`, 'libs');
/**
 * Where `exactly kafka start` keeps its Kafka (data, logs, state files) between commands: `broker` for one node,
 * `cluster-<n>` for n nodes.
 */
export const sharedBrokerDir = (nodes = 1): string => join(cacheDir(), nodes === 1 ? 'broker' : `cluster-${nodes}`);

/** Where `exactly kafka start --secure` keeps its one-node SASL_SSL Kafka, its certificates and users. */
export const sharedSecureBrokerDir = (): string => join(cacheDir(), 'broker-secure');
