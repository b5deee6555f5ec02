import { loadKafkaJS } from './load-kafkajs.js';

/** KafkaJS 2.2.4 with a read_committed filter that drops every aborted transaction (see aborted-transactions.ts). */
export const kafkajs = loadKafkaJS();
export { logOffsets } from './end-offsets.js';
export { lastHeaderValues } from './headers.js';
export { findTransactionCoordinator } from './kafkajs-cluster.js';
export type { PartitionRecord } from './partition-reader.js';
export { PartitionReader } from './partition-reader.js';
export { StableOffsets } from './stable-offsets.js';
