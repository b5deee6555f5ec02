import type { KafkaSecurity, SaslOptions, SchemaRegistryClient, TlsOptions } from '@exactly/core';
import type { LevelWithSilent } from 'pino';

export type ClientName = 'kafkajs' | 'platformatic';

/** How output record batches are compressed (Kafka's codecs). */
export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export interface RunOptions {
  /** Bootstrap brokers, `host:port` strings or one comma-separated string. */
  readonly brokers: string | readonly string[];
  /** TLS: `true` trusts the system's certificate authorities; options give a CA, mutual TLS, a server name. */
  readonly ssl?: boolean | TlsOptions;
  /** SASL: plain, scram-sha-256, scram-sha-512 (username, password) or oauthbearer (a token provider). */
  readonly sasl?: SaslOptions;
  /** How long a fetch waits for more records before the batch (and its transaction) closes. Default 100 ms. */
  readonly commitIntervalMs?: number;
  /** Most input records in one transaction. Default 5000. */
  readonly maxBatchRecords?: number;
  /** Create missing topics (outputs and dead-letter get the input's partition count). Default false. */
  readonly createTopics?: boolean;
  /** Partitions for the input topic when createTopics creates it. Default 1. */
  readonly inputPartitions?: number;
  /** Serve Prometheus metrics on this port (`/metrics`). */
  readonly metricsPort?: number;
  /** Add `exactly.source.topic|partition|offset` headers to every output. Default false. */
  readonly provenance?: boolean;
  /** Needed by `avro()` serdes. */
  readonly schemaRegistry?: SchemaRegistryClient;
  /**
   * Broker-side cap on an open transaction; a dead producer's transaction is aborted after it, and until then it
   * holds back read_committed readers. Default 60 s with kafkajs, 10 s with platformatic (see docs/guarantees.md).
   */
  readonly transactionTimeoutMs?: number;
  /** A member silent this long leaves the group and its partitions move. Default 30 s. */
  readonly sessionTimeoutMs?: number;
  /**
   * Client library. 'platformatic' (@platformatic/kafka; the default on Node >= 22.22): KIP-447, one producer per
   * instance, one transaction across partitions. 'kafkajs' (the default on an older Node): one transactional
   * producer per input partition. Same guarantee; see docs/guarantees.md.
   */
  readonly client?: ClientName;
  /** Log level of the JSON logs on stderr. Default 'info'. */
  readonly logLevel?: LevelWithSilent;
  /**
   * Names this instance in logs and client ids; with platformatic also in its transactional.id
   * (`<id>.<instanceId>`), so give each instance a stable one (a pod name): a restart then ends its predecessor's
   * open transaction at once instead of after the transaction timeout. Default `<hostname>-<pid>`.
   */
  readonly instanceId?: string;
  /**
   * A directory where stores keep a local copy (LMDB) that outlives the process: a restart, or a partition that
   * comes back, then reads only the changelog's tail after the copy's checkpoint instead of the whole
   * changelog. One process per directory (a lock file says which). Default: none, stores live in memory and
   * are rebuilt from their changelogs. See docs/state.md.
   */
  readonly stateDir?: string;
  /**
   * How long start-up keeps trying to reach Kafka before `run()` rejects with a KafkaUnreachableError naming
   * the brokers and the last error. Default 60 s.
   */
  readonly startupTimeoutMs?: number;
  /** Aborting it makes a `run()` still starting reject (with the signal's reason) and close what it opened. */
  readonly signal?: AbortSignal;
  /**
   * Compression of the output batches (outputs, dead letters, changelogs). Inputs in any codec are read either
   * way. Default 'snappy', chosen in `pnpm bench --compression` (docs/benchmarks.md, "Output compression").
   */
  readonly compression?: Compression;
  /**
   * The PostgreSQL database that table outputs (`table()` of `@exactly/postgres`) write to, as a connection URL
   * (`postgres://user:password@host:5432/db`). Default: the DATABASE_URL environment variable. Only a processor
   * with tables uses it. See docs/postgres.md.
   */
  readonly postgres?: string;
  /**
   * The RabbitMQ broker of a queue input or exchange outputs (`@exactly/rabbitmq`), as an AMQP URL
   * (`amqp://user:password@host:5672/vhost`). Default: the RABBITMQ_URL environment variable. See docs/rabbitmq.md.
   */
  readonly rabbitmq?: string;
  /**
   * Members of the consumer group run by this one call, each a process of its own (this program started
   * again, as node:cluster does: the code before `run()` runs in each), so that the work uses every core.
   * Each has its own producer and the instance id `<instanceId>-w<k>`, kept across its restarts. A worker
   * that dies is restarted; one that dies 5 times within a minute stops the whole (`done` rejects with why).
   * One metrics endpoint and one `stop()` for all. 'auto': one per core, at most one per input partition.
   * Default 1 (no worker process: the processor runs in this one). See docs/workers.md.
   */
  readonly workers?: number | 'auto';
}

export interface ResolvedOptions {
  readonly brokers: readonly string[];
  readonly security: KafkaSecurity;
  readonly commitIntervalMs: number;
  readonly maxBatchRecords: number;
  readonly createTopics: boolean;
  readonly inputPartitions: number;
  readonly metricsPort: number | undefined;
  readonly provenance: boolean;
  readonly schemaRegistry: SchemaRegistryClient | undefined;
  readonly transactionTimeoutMs: number;
  readonly sessionTimeoutMs: number;
  readonly client: ClientName;
  readonly logLevel: LevelWithSilent;
  readonly instanceId: string;
  readonly stateDir: string | undefined;
  readonly startupTimeoutMs: number;
  readonly signal: AbortSignal | undefined;
  readonly compression: Compression;
  /** The database URL for table outputs (the option, else DATABASE_URL), if any. */
  readonly postgres: string | undefined;
  /** The AMQP URL for a queue input or exchange outputs (the option, else RABBITMQ_URL), if any. */
  readonly rabbitmq: string | undefined;
  readonly workers: number | 'auto';
}
