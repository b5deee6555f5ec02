import type { KafkaSecurity } from '@exactly/core';
import { findSharedKafka, startKafka } from '@exactly/testkit';
import { readClientProperties } from './config/client-properties.js';

/** A command was given what it cannot use; the message says what to give instead. Exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * The brokers a command talks to: `--brokers`, else `KAFKA_BROKERS`; with `local`, else the local broker of
 * `exactly kafka start` (started now if it is not running). Without any, a UsageError: in production a
 * forgotten variable must be an error, not a Kafka download.
 */
export async function resolveBrokers(
  flag: string | undefined,
  log: (line: string) => void,
  options: { readonly local?: boolean; readonly fromConfig?: string } = {},
): Promise<string> {
  if (flag) return flag;
  if (process.env.KAFKA_BROKERS) return process.env.KAFKA_BROKERS;
  if (options.fromConfig) return options.fromConfig;
  if (!options.local) {
    throw new UsageError(
      'no brokers: give them with --brokers host:port[,host:port...], KAFKA_BROKERS, or bootstrap.servers in ' +
        'the --config file. For development, ' +
        '`exactly kafka start` runs a local broker, and --local uses it (starting it if need be).',
    );
  }
  const running = await findSharedKafka();
  if (running) return running.brokers;
  log('--local: no local Kafka running; starting one (exactly kafka stop ends it)...');
  const started = Date.now();
  const kafka = await startKafka({ mode: 'shared', localOnly: true });
  log(`Local Kafka started at ${kafka.brokers} in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  return kafka.brokers;
}

export interface Connection extends KafkaSecurity {
  readonly brokers: string;
}

/**
 * The brokers (as resolveBrokers) and the TLS/SASL settings of a `--config client.properties` file. Names of
 * properties the file has and Exactly does not use are logged, never their values.
 */
export async function resolveConnection(
  flags: { readonly brokers?: string; readonly config?: string; readonly local?: boolean },
  log: (line: string) => void,
): Promise<Connection> {
  const file = flags.config ? readClientProperties(flags.config) : undefined;
  if (file && file.ignored.length > 0) log(`${flags.config}: not used by Exactly: ${file.ignored.join(', ')}`);
  const brokers = await resolveBrokers(flags.brokers, log, { local: flags.local, fromConfig: file?.brokers });
  return { brokers, ...file?.security };
}
