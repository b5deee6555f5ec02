import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { checkSecurity, ExactlyConfigError, type KafkaSecurity } from '@exactly/core';
import { nodeWritesZstd } from './adapters/compression.js';
import { nodeRunsPlatformatic, PLATFORMATIC_NODE_REQUIREMENT } from './adapters/platformatic/node-version.js';
import type { Compression, ResolvedOptions, RunOptions } from './options.js';

export function resolveOptions(options: RunOptions): ResolvedOptions {
  const brokers = (typeof options.brokers === 'string' ? options.brokers.split(',') : [...(options.brokers ?? [])])
    .map((b) => b.trim())
    .filter(Boolean);
  if (brokers.length === 0) throw new ExactlyConfigError('brokers', 'at least one broker (host:port) is required');
  for (const broker of brokers) checkBroker(broker);
  const security: KafkaSecurity = { ssl: options.ssl, sasl: options.sasl };
  checkSecurity(security);
  const positive = (field: keyof RunOptions, value: number | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    if (!Number.isFinite(value) || value <= 0)
      throw new ExactlyConfigError(field, `must be a positive number, got ${value}`);
    return value;
  };
  // The faster adapter (docs/benchmarks.md) where the Node can run it; KafkaJS on an older Node.
  const client = options.client ?? (nodeRunsPlatformatic(process.versions.node) ? 'platformatic' : 'kafkajs');
  if (client !== 'kafkajs' && client !== 'platformatic')
    throw new ExactlyConfigError('client', `unknown client '${String(client)}' (available: kafkajs, platformatic)`);
  if (client === 'platformatic' && !nodeRunsPlatformatic(process.versions.node))
    throw new ExactlyConfigError(
      'client',
      `'platformatic' needs Node ${PLATFORMATIC_NODE_REQUIREMENT}; this is Node ${process.versions.node}. Use client 'kafkajs' or a newer Node.`,
    );
  return {
    brokers,
    security,
    commitIntervalMs: positive('commitIntervalMs', options.commitIntervalMs, 100),
    maxBatchRecords: Math.floor(positive('maxBatchRecords', options.maxBatchRecords, 5000)),
    createTopics: options.createTopics ?? false,
    inputPartitions: Math.floor(positive('inputPartitions', options.inputPartitions, 1)),
    metricsPort: options.metricsPort,
    provenance: options.provenance ?? false,
    schemaRegistry: options.schemaRegistry,
    // KIP-447 mode: an instance restarted under another id leaves its open transaction to this timeout.
    transactionTimeoutMs: positive(
      'transactionTimeoutMs',
      options.transactionTimeoutMs,
      client === 'platformatic' ? 10_000 : 60_000,
    ),
    sessionTimeoutMs: positive('sessionTimeoutMs', options.sessionTimeoutMs, 30_000),
    client,
    logLevel: options.logLevel ?? 'info',
    instanceId: options.instanceId ?? `${hostname()}-${process.pid}`,
    stateDir: stateDirOf(options.stateDir),
    startupTimeoutMs: positive('startupTimeoutMs', options.startupTimeoutMs, 60_000),
    signal: options.signal,
    compression: compressionOf(options.compression, client),
    postgres: postgresOf(options.postgres),
    rabbitmq: rabbitmqOf(options.rabbitmq),
    workers: workersOf(options.workers),
  };
}

function workersOf(workers: number | 'auto' | undefined): number | 'auto' {
  if (workers === undefined) return 1;
  if (workers === 'auto' || (Number.isInteger(workers) && workers >= 1)) return workers;
  throw new ExactlyConfigError('workers', `must be a whole number of at least 1, or 'auto' (got ${String(workers)})`);
}

/** The option, else DATABASE_URL; only its form is checked here (the database is reached at start). */
function postgresOf(url: string | undefined): string | undefined {
  const chosen = url ?? (process.env.DATABASE_URL?.trim() || undefined);
  if (chosen === undefined) return undefined;
  if (typeof chosen !== 'string' || !/^postgres(ql)?:\/\//.test(chosen))
    throw new ExactlyConfigError(
      url === undefined ? 'DATABASE_URL' : 'postgres',
      'must be a PostgreSQL connection URL, postgres://user:password@host:5432/database',
    );
  return chosen;
}

/** The option, else RABBITMQ_URL; only its form is checked here (the broker is reached at start). */
function rabbitmqOf(url: string | undefined): string | undefined {
  const chosen = url ?? (process.env.RABBITMQ_URL?.trim() || undefined);
  if (chosen === undefined) return undefined;
  if (typeof chosen !== 'string' || !/^amqps?:\/\//.test(chosen))
    throw new ExactlyConfigError(
      url === undefined ? 'RABBITMQ_URL' : 'rabbitmq',
      'must be an AMQP URL, amqp://user:password@host:5672/vhost (amqps:// for TLS)',
    );
  return chosen;
}

const COMPRESSIONS: readonly Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** The default is the bench's pick (docs/benchmarks.md); zstd needs a Node whose zlib has it. */
function compressionOf(compression: Compression | undefined, client: string): Compression {
  if (compression === undefined) return DEFAULT_COMPRESSION;
  if (!COMPRESSIONS.includes(compression))
    throw new ExactlyConfigError(
      'compression',
      `must be one of ${COMPRESSIONS.join(', ')} (got '${String(compression)}')`,
    );
  if (compression === 'zstd' && !nodeWritesZstd)
    throw new ExactlyConfigError(
      'compression',
      `zstd needs Node 22.15 or later to compress (this is ${process.versions.node}, client ${client}): choose lz4, or a newer Node`,
    );
  return compression;
}

/**
 * Chosen by measurement (`pnpm bench --compression`, docs/benchmarks.md "Output compression"): of the codecs that
 * keep throughput within 10% of none, the one that writes the fewest bytes (snappy: 0.92x, a third of the bytes).
 */
export const DEFAULT_COMPRESSION: Compression = 'snappy';

function stateDirOf(stateDir: string | undefined): string | undefined {
  if (stateDir === undefined) return undefined;
  if (typeof stateDir !== 'string' || stateDir.trim() === '')
    throw new ExactlyConfigError('stateDir', 'must be a directory path (or left out to keep stores in memory)');
  return resolve(stateDir);
}

/** `host:port`, `[ipv6]:port`: what Kafka's bootstrap addresses are; anything else is refused at start. */
const BROKER = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;

function checkBroker(broker: string): void {
  const port = BROKER.exec(broker)?.[1];
  if (port === undefined || Number(port) < 1 || Number(port) > 65535)
    throw new ExactlyConfigError('brokers', `'${broker}' is not a broker address: give host:port, e.g. kafka-1:9092`);
}
