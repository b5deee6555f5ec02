import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import type * as KafkaJS from 'kafkajs';
import { AbortedTransactions, markerOf } from './aborted-transactions.js';

const require = createRequire(import.meta.url);
const root = dirname(require.resolve('kafkajs/package.json'));
const filterPath = join(root, 'src', 'consumer', 'filterAbortedMessages.js');

/** The fields of a fetched KafkaJS message that its typings leave out. */
interface FetchedMessage {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly isControlRecord?: boolean;
  readonly batchContext: { readonly producerId: string; readonly inTransaction: boolean };
}

/** Drop-in for KafkaJS's `consumer/filterAbortedMessages.js`, with Kafka's rule. */
export function filterAbortedMessages({
  messages,
  abortedTransactions,
}: {
  messages: FetchedMessage[];
  abortedTransactions?: { producerId: string; firstOffset: string }[];
}): FetchedMessage[] {
  if (!abortedTransactions?.length) return messages;
  const aborted = new AbortedTransactions(abortedTransactions);
  return messages.filter(
    (message) =>
      !aborted.drops({
        lastOffset: BigInt(message.offset),
        producerId: message.batchContext.producerId,
        transactional: message.batchContext.inTransaction,
        marker: message.isControlRecord === true ? markerOf(message.key) : undefined,
      }),
  );
}

/**
 * KafkaJS, loaded so that its consumer's batches use our filter. KafkaJS binds its filter when its modules load,
 * so ours goes into the module cache first; if KafkaJS was loaded before (by the application), its modules are
 * loaded afresh for us and the application keeps its own copy.
 */
export function loadKafkaJS(): typeof KafkaJS {
  if (require.cache[filterPath]?.exports !== filterAbortedMessages) {
    for (const path of Object.keys(require.cache)) if (path.startsWith(root + sep)) delete require.cache[path];
    require(filterPath);
    const cached = require.cache[filterPath];
    if (cached === undefined)
      throw new Error(`could not load ${filterPath} to correct KafkaJS's read_committed filter`);
    cached.exports = filterAbortedMessages;
  }
  return require('kafkajs') as typeof KafkaJS;
}
