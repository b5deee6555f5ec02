import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import type * as KafkaJS from 'kafkajs';
import { AbortedTransactions, markerOf } from './aborted-transactions.js';
import { addCodecs } from './kafkajs-codecs.js';
import { reportingCoordinatorLookup } from './kafkajs-coordinator.js';
import { createSendMessages } from './kafkajs-send-messages.js';

const require = createRequire(import.meta.url);
const root = dirname(require.resolve('kafkajs/package.json'));
const filterPath = join(root, 'src', 'consumer', 'filterAbortedMessages.js');
const sendMessagesPath = join(root, 'src', 'producer', 'sendMessages.js');
const clusterPath = join(root, 'src', 'cluster', 'index.js');
const errorsPath = join(root, 'src', 'errors.js');

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

/** KafkaJS's modules that are replaced, by path, with their replacements. */
const CORRECTIONS: ReadonlyArray<readonly [path: string, replacement: unknown]> = [
  [filterPath, filterAbortedMessages], // Kafka's read_committed rule
  [sendMessagesPath, createSendMessages], // no record left unsent when a partition's leader moves mid-send
];

/**
 * KafkaJS, loaded with four corrections: its consumer's batches use our read_committed filter, its producer
 * our send (see kafkajs-send-messages.ts), its coordinator lookup reports refusals (kafkajs-coordinator.ts), and
 * it reads and writes snappy, lz4 and zstd (kafkajs-codecs.ts). KafkaJS binds these modules when its own load, so ours go into the
 * module cache first; if KafkaJS was loaded before (by the application), its modules are loaded afresh for us
 * and the application keeps its own copy.
 */
export function loadKafkaJS(): typeof KafkaJS {
  if (CORRECTIONS.some(([path, replacement]) => require.cache[path]?.exports !== replacement)) {
    for (const path of Object.keys(require.cache)) if (path.startsWith(root + sep)) delete require.cache[path];
    for (const [path, replacement] of CORRECTIONS) {
      require(path);
      const cached = require.cache[path];
      if (cached === undefined) throw new Error(`could not load ${path} to correct it`);
      cached.exports = replacement;
    }
    // Third: the coordinator lookup reports a refused transactional id or group (kafkajs-coordinator.ts).
    const Cluster = require(clusterPath) as { prototype: Record<string, unknown> };
    const { KafkaJSGroupCoordinatorNotFound } = require(errorsPath) as {
      KafkaJSGroupCoordinatorNotFound: new (m: string) => Error;
    };
    Cluster.prototype.findGroupCoordinatorMetadata = reportingCoordinatorLookup(KafkaJSGroupCoordinatorNotFound);
  }
  const loaded = require('kafkajs') as typeof KafkaJS;
  addCodecs(loaded); // Fourth: snappy, lz4 and zstd, which KafkaJS does not have (kafkajs-codecs.ts).
  return loaded;
}
