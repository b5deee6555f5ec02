import { loadKafkaJS } from './load-kafkajs.js';

/** KafkaJS 2.2.4 with a read_committed filter that drops every aborted transaction (see aborted-transactions.ts). */
export const kafkajs = loadKafkaJS();
export { type AbortedTransaction, AbortedTransactions, type LogEntry, markerOf } from './aborted-transactions.js';
export { logEndOffsets } from './end-offsets.js';
export { filterAbortedMessages } from './load-kafkajs.js';
