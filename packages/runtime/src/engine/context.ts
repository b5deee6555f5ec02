import type { RecordPipeline } from '@exactly/core';
import type { Logger } from '../observability/logger.js';
import type { EngineMetrics } from '../observability/metrics.js';
import type { Compression } from '../options.js';
import type { AmqpPort } from '../port/amqp.js';
import type { AdminPort, ClientAdapter } from '../port/client.js';
import type { TablesPort } from '../port/tables.js';
import type { LocalStateDir } from './local-state.js';

/** What every partition task shares: settings, clients, and the engine's way to stop on a fatal error. */
export interface EngineContext {
  readonly processorId: string;
  /** Names this instance; in 'instance' fencing mode it is part of the transactional.id. */
  readonly instanceId: string;
  readonly groupId: string;
  readonly inputTopic: string;
  readonly adapter: ClientAdapter;
  readonly admin: AdminPort;
  readonly pipeline: RecordPipeline;
  readonly metrics: EngineMetrics;
  readonly log: Logger;
  readonly maxBatchRecords: number;
  readonly transactionTimeoutMs: number;
  readonly maxRequestBytes: number;
  readonly compression: Compression;
  /** Where stores keep a local copy that outlives the process (RunOptions.stateDir); in memory without it. */
  readonly localState?: LocalStateDir;
  /** The database the processor's table outputs write to (a processor with tables has it). */
  readonly tables?: TablesPort;
  /** The message broker of its queue input or exchange outputs (a processor with either has it). */
  readonly amqp?: AmqpPort;
  /** Stops the processor; `done` rejects with this error. */
  fail(error: Error): void;
}
