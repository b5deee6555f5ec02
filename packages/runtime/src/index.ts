export { quietKafkaJsWarnings } from './adapters/kafkajs/warnings.js';
export { KafkaUnreachableError, MissingTopicsError, ProcessorStoppedError } from './errors.js';
export type { MetricsSnapshot } from './observability/metrics.js';
export type { ClientName, Compression, RunOptions } from './options.js';
export type { ErrorKind } from './port/errors.js';
export { ClientError } from './port/errors.js';
export type { RunningProcessor } from './run.js';
export { run } from './run.js';
