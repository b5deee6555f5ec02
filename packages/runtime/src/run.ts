import type { Server } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import {
  type AnyInput,
  ExactlyConfigError,
  isQueue,
  type NoStores,
  type Processor,
  RecordPipeline,
  type StoreMap,
  type TopicMap,
} from '@exactly/core';
import { createAdapter } from './adapters/create-adapter.js';
import { describeSecurity } from './adapters/security.js';
import { MAX_MESSAGE_BYTES } from './adapters/topic-settings.js';
import { backoffMs } from './backoff.js';
import { checkDatabaseOption, describeDatabase, openDatabase } from './database.js';
import { Engine } from './engine/engine.js';
import { LocalStateDir } from './engine/local-state.js';
import { QueueEngine } from './engine/queue-engine.js';
import { KafkaUnreachableError } from './errors.js';
import { createLogger, type Logger } from './observability/logger.js';
import { EngineMetrics, type MetricsSnapshot } from './observability/metrics.js';
import { startMetricsServer } from './observability/metrics-server.js';
import type { ResolvedOptions, RunOptions } from './options.js';
import type { AmqpPort } from './port/amqp.js';
import type { ClientAdapter } from './port/client.js';
import { ClientError } from './port/errors.js';
import type { TablesPort } from './port/tables.js';
import { checkRabbitmqOption, describeRabbitmq, openRabbitmq } from './rabbitmq.js';
import { resolveOptions } from './resolve-options.js';
import { ensureTopics } from './topics.js';
import { autoWorkers } from './workers/auto.js';
import { superviseWorkers } from './workers/supervisor.js';
import {
  reportStartFailure,
  serveSupervisor,
  takeWorkerSlot,
  watchSupervisor,
  workerOptions,
} from './workers/worker-side.js';

export interface RunningProcessor {
  /** Finishes or aborts the open transactions, leaves the group, closes every client. Idempotent. */
  stop(): Promise<void>;
  /** Resolves when the processor has stopped; rejects with the reason if it stopped on an error. */
  readonly done: Promise<void>;
  /** Counters since start: records in/out, dead letters, transactions, lag. */
  metrics(): Promise<MetricsSnapshot>;
  /** The Prometheus registry (what `/metrics` serves). */
  readonly registry: EngineMetrics['registry'];
}

/**
 * Runs a start-up step again while it fails with a retriable client error, until `startupTimeoutMs` has passed
 * since start-up began (then a KafkaUnreachableError naming the brokers), or the caller's signal aborts.
 */
async function retryWhileRetriable<T>(
  step: () => Promise<T>,
  resolved: ResolvedOptions,
  startedAt: number,
  log: Logger,
): Promise<T> {
  const deadline = startedAt + resolved.startupTimeoutMs;
  for (let attempt = 1; ; attempt++) {
    resolved.signal?.throwIfAborted();
    try {
      return await step();
    } catch (error) {
      resolved.signal?.throwIfAborted();
      if (!(error instanceof ClientError) || error.kind !== 'retriable') throw error;
      const now = Date.now();
      if (now >= deadline) throw new KafkaUnreachableError(resolved.brokers, now - startedAt, error);
      log.warn(
        {
          brokers: resolved.brokers.join(','),
          code: error.code,
          error: error.message,
          attempt,
          givingUpInS: Math.ceil((deadline - now) / 1000),
        },
        'Kafka not reachable yet; retrying start-up',
      );
      await delay(Math.min(backoffMs(attempt), Math.max(0, deadline - now)), undefined, {
        signal: resolved.signal,
      }).catch(() => resolved.signal?.throwIfAborted());
    }
  }
}

/**
 * Bytes per produce request: below the broker's default message.max.bytes (1 MiB) with room for framing, and
 * never above the smallest output topic's max.message.bytes (a request's records for a partition are one batch).
 */
const MAX_REQUEST_BYTES = 900 * 1024;

/**
 * Runs a processor against Kafka: consume read_committed, handle, and commit outputs with offsets in one
 * transaction per batch. Resolves once the consumer has joined its group.
 */
export async function run<I extends AnyInput, O extends TopicMap, S extends StoreMap = NoStores>(
  processor: Processor<I, O, S>,
  options: RunOptions,
): Promise<RunningProcessor> {
  const generic = processor as unknown as Processor;
  const resolved = resolveOptions(options);
  checkDatabaseOption(generic, resolved.postgres);
  checkRabbitmqOption(generic, resolved.rabbitmq);
  const slot = takeWorkerSlot();
  if (slot) {
    // This process is one of a supervisor's workers: one member of the group, reporting to it. A supervisor
    // gone during start-up ends the start-up (signal); one gone after it stops the worker (serveSupervisor).
    const supervisor = watchSupervisor();
    const signal = resolved.signal ? AbortSignal.any([resolved.signal, supervisor.gone]) : supervisor.gone;
    const app = await runOne(generic, { ...workerOptions(resolved, slot), signal }).catch(async (error: unknown) => {
      await reportStartFailure(error);
      throw error;
    });
    serveSupervisor(app, supervisor);
    return app;
  }
  if (resolved.workers !== 1) {
    const log = createLogger(resolved.logLevel, { processor: processor.id, instance: resolved.instanceId });
    const count = await workerCount(generic, resolved, log);
    if (count > 1) return superviseWorkers(resolved, count, log);
  }
  return runOne(generic, resolved);
}

/** One member of the group, in this process. */
async function runOne(processor: Processor, resolved: ResolvedOptions): Promise<RunningProcessor> {
  const log = createLogger(resolved.logLevel, { processor: processor.id, instance: resolved.instanceId });
  const adapter = await createAdapter(
    resolved.client,
    { brokers: resolved.brokers, clientId: `${processor.id}-${resolved.instanceId}`, security: resolved.security },
    log,
  );
  return runOnAdapter(processor, resolved, adapter, log);
}

/** How many workers: the number given, or for 'auto' one per core and at most one per input partition. */
async function workerCount(processor: Processor, resolved: ResolvedOptions, log: Logger): Promise<number> {
  const input = processor.input;
  if (isQueue(input)) {
    if (resolved.workers === 'auto') return 1;
    throw new ExactlyConfigError(
      'workers',
      `queue '${input.name}' has one active consumer at a time (single active consumer), so more workers would only stand by: run one, and scale out over several queues (docs/rabbitmq.md)`,
    );
  }
  if (resolved.workers !== 'auto') return resolved.workers;
  const started = Date.now();
  const adapter = await createAdapter(
    resolved.client,
    { brokers: resolved.brokers, clientId: `${processor.id}-${resolved.instanceId}`, security: resolved.security },
    log,
  );
  const admin = adapter.admin();
  try {
    const counts = await retryWhileRetriable(() => admin.partitionCounts([input.name]), resolved, started, log);
    const partitions = counts.get(input.name) ?? resolved.inputPartitions;
    return autoWorkers(partitions);
  } finally {
    await admin.close();
  }
}

/** run(), on a client adapter already made: the tests' fake adapter (and fake database) come in here. */
export async function runOnAdapter(
  generic: Processor,
  resolved: ResolvedOptions,
  adapter: ClientAdapter,
  log: Logger,
  database?: TablesPort,
  broker?: AmqpPort,
): Promise<RunningProcessor> {
  const processor = generic;
  const started = Date.now();
  const bound = await RecordPipeline.create(generic, {
    registry: resolved.schemaRegistry,
    provenance: resolved.provenance,
  });
  const admin = adapter.admin();
  let partitions: number;
  let limits: Map<string, number>;
  try {
    partitions = await retryWhileRetriable(() => ensureTopics(admin, generic, bound, resolved), resolved, started, log);
    limits = await retryWhileRetriable(
      () => admin.topicSettings(bound.outputTopics, MAX_MESSAGE_BYTES),
      resolved,
      started,
      log,
    );
  } catch (error) {
    await admin.close();
    throw error;
  }
  // An output over its topic's limit becomes a dead letter before it is sent, instead of a refused transaction.
  const pipeline = bound.withMaxRecordBytes(Object.fromEntries(limits));
  let localState: LocalStateDir | undefined;
  let tables: TablesPort | undefined;
  let amqp: AmqpPort | undefined;
  try {
    tables = database ?? (await openDatabase(generic, resolved.postgres, bound.changelogTopics.length > 0));
    amqp = broker ?? (await openRabbitmq(generic, resolved.rabbitmq, resolved.startupTimeoutMs, log));
  } catch (error) {
    await admin.close();
    await tables?.close();
    throw error;
  }
  if (resolved.stateDir !== undefined && bound.changelogTopics.length > 0) {
    try {
      // A database per store and input partition, with room for the input to grow.
      const databases = Math.max(256, 4 * bound.changelogTopics.length * partitions);
      localState = await LocalStateDir.open(resolved.stateDir, processor.id, databases);
    } catch (error) {
      await admin.close();
      await tables?.close();
      await amqp?.close();
      throw error;
    }
  }
  const metrics = new EngineMetrics();
  const context = {
    processorId: processor.id,
    instanceId: resolved.instanceId,
    groupId: processor.id,
    inputTopic: processor.input.name,
    adapter,
    admin,
    pipeline,
    metrics,
    log,
    maxBatchRecords: resolved.maxBatchRecords,
    transactionTimeoutMs: resolved.transactionTimeoutMs,
    maxRequestBytes: Math.min(MAX_REQUEST_BYTES, ...limits.values()),
    compression: resolved.compression,
    localState,
    tables,
    amqp,
  };
  const input = processor.input;
  const engine = isQueue(input)
    ? new QueueEngine(
        context,
        amqp as AmqpPort, // openRabbitmq gives one for every processor with a queue
        input,
        input.prefetch ?? Math.min(65_535, 2 * resolved.maxBatchRecords),
        resolved.commitIntervalMs,
      )
    : new Engine(context, {
        groupId: processor.id,
        topic: processor.input.name,
        maxWaitMs: resolved.commitIntervalMs,
        // Fetches wait (up to the commit interval) for this much data: fewer, larger transactions under load.
        minBytes: 256 * 1024,
        // About one poll's records (5,000 of ~1 KB) per fetch answer: a larger answer only waits, paused, in
        // memory. Measured against 1 MiB and 16 MiB (1M records, 2 workers): peak RSS per worker 318-320 MB
        // against 362-377 at 96 partitions, and about 15 MB less at 6, in the same time.
        maxBytesPerPartition: 256 * 1024,
        maxBytes: 4 * 1024 * 1024,
        sessionTimeoutMs: resolved.sessionTimeoutMs,
        heartbeatIntervalMs: Math.max(100, Math.floor(resolved.sessionTimeoutMs / 10)),
        concurrency: Math.max(1, partitions),
        maxPollRecords: resolved.maxBatchRecords,
      });
  let server: Server | undefined;
  try {
    if (resolved.metricsPort !== undefined) server = await startMetricsServer(metrics.registry, resolved.metricsPort);
    await retryWhileRetriable(() => engine.start(), resolved, started, log);
  } catch (error) {
    server?.close();
    await engine.stop();
    await localState?.close();
    await tables?.close();
    await amqp?.close();
    throw error;
  }
  log.info(
    {
      brokers: resolved.brokers,
      security: describeSecurity(resolved.security),
      input: processor.input.name,
      partitions,
      commitIntervalMs: resolved.commitIntervalMs,
      client: adapter.name,
      compression: resolved.compression,
      ...(tables && resolved.postgres ? { postgres: describeDatabase(resolved.postgres) } : {}),
      ...(amqp && resolved.rabbitmq ? { rabbitmq: describeRabbitmq(resolved.rabbitmq) } : {}),
    },
    'processor started',
  );
  const closeServer = () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  // The local copies close once the engine is done (stopped, or stopped by an error): no task writes after.
  let closing: Promise<void> | undefined;
  const closeAll = () =>
    (closing ??= closeServer()
      .then(() => localState?.close())
      .then(() => tables?.close())
      .then(() => amqp?.close()));
  engine.done.then(closeAll, closeAll);
  return {
    stop: async () => {
      await engine.stop();
      await closeAll();
      log.info('processor stopped');
    },
    done: engine.done,
    metrics: () => metrics.snapshot(),
    registry: metrics.registry,
  };
}
