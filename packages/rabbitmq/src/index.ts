export type { DedupWindow, ExchangeEntry, QueueMessage, QueueRecord } from '@exactly/core';
export type { ExchangeOptions } from './exchange.js';
export { exchange } from './exchange.js';
export type { QueueOptions } from './queue.js';
export { queue } from './queue.js';
