import { setTimeout as delay } from 'node:timers/promises';
import { Headers } from '@exactly/core';
import { connect } from 'amqplib';
import { type KafkaTarget, waitForLeaders, withAdmin } from '../kafka/client.js';
import { readTopic } from '../kafka/read-topic.js';
import { queueMessageId, queueReady } from './queue-publisher.js';
import { scanTransactions } from './transaction-scan.js';
import { compareWithLog } from './verify.js';

/** The queue and message id a record cites (its provenance headers, or a dead letter's). */
function sourceOf(headers: Readonly<Record<string, string>>): { queue?: string; id?: string } {
  const queue = headers[Headers.sourceQueue];
  const id = headers[Headers.sourceMessageId];
  return { ...(queue === undefined ? {} : { queue }), ...(id === undefined ? {} : { id }) };
}

export interface QueueOnceOptions {
  readonly brokers: string;
  /** The RabbitMQ broker, as an AMQP URL. */
  readonly url: string;
  /** The processor's id: part of its exchange messages' ids. */
  readonly processorId: string;
  /** The input queue: must be empty (every message acknowledged). */
  readonly queue: string;
  /** The output topic: one record per published message, keyed by (and citing) the message id. */
  readonly output: string;
  /** Messages published: ids `idOf(0)` to `idOf(published - 1)`. */
  readonly published: number;
  readonly idOf?: (n: number) => string;
  /**
   * The exchange output: its name in the processor's outputs, and a queue bound to the exchange that receives
   * every message the processor published there. It is drained (emptied) by the check.
   */
  readonly exchange?: { readonly output: string; readonly watch: string };
  readonly timeoutMs?: number;
}

export interface ExchangeVerdict {
  /** Messages taken from the watch queue. */
  readonly messages: number;
  /** Distinct message ids among them. */
  readonly distinct: number;
  /** Records on the output topic whose exchange message (with its stable id) never arrived: must be 0. */
  readonly missing: number;
  /** Ids that arrived more than once (published again after a crash or a lost confirm): allowed, at least once. */
  readonly republished: number;
  /** Messages whose id is not the stable id of any committed record: must be 0. */
  readonly withoutRecord: number;
}

export interface QueueOnceVerdict {
  readonly ok: boolean;
  readonly published: number;
  /** Records on the output topic (read_committed). */
  readonly records: number;
  /** Published ids with no record: must be 0. */
  readonly missing: number;
  /** Published ids with more than one record: must be 0. */
  readonly duplicated: number;
  /** Records citing no published id (or a different queue): must be 0. */
  readonly orphans: number;
  readonly abortedInLog: number;
  /** Records of aborted transactions the read_committed reader returned: must be 0. */
  readonly abortedRead: number;
  /** Committed records the read_committed reader did not return: must be 0. */
  readonly committedUnread: number;
  /** Messages still in the input queue (not acknowledged) after the run: must be 0. */
  readonly queueLeft: number;
  readonly exchange?: ExchangeVerdict;
  readonly examples: readonly string[];
}

/**
 * Checks a drained run of a processor that reads a queue: every published message id has exactly one record on
 * the output topic (read_committed, found by the record's provenance headers (run with provenance), which must
 * match its key, cross-checked against the
 * log's transaction markers), the queue is empty, and every record's exchange message arrived at least once
 * with its stable id (`<processor>/<queue>/<message id>/<output>/0`). Call it once the processors have stopped.
 */
export async function verifyQueueOnce(options: QueueOnceOptions): Promise<QueueOnceVerdict> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const idOf = options.idOf ?? queueMessageId;
  const target: KafkaTarget = { brokers: options.brokers };
  const examples: string[] = [];
  const note = (line: string) => examples.length < 20 && examples.push(line);
  await withAdmin(target, (admin) => waitForLeaders(admin, new Map([[options.output, undefined]]), timeoutMs));
  const [records, scanned] = await Promise.all([
    readTopic(target, options.output, { isolation: 'read_committed', timeoutMs }),
    scanTransactions(target, options.output, timeoutMs),
  ]);
  const published = new Set(Array.from({ length: options.published }, (_, n) => idOf(n)));
  const counts = new Map<string, number>();
  let orphans = 0;
  for (const record of records) {
    const { queue, id } = sourceOf(record.headers);
    const key = record.key?.toString();
    if (id === undefined || !published.has(id) || queue !== options.queue || key !== id) {
      orphans += 1;
      note(
        `${options.output}/${record.partition}@${record.offset} cites no published message (${id ?? '-'}, key ${key})`,
      );
      continue;
    }
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  let missing = 0;
  let duplicated = 0;
  for (const id of published) {
    const count = counts.get(id) ?? 0;
    if (count === 0) {
      missing += 1;
      note(`${id}: no record on ${options.output}`);
    } else if (count > 1) {
      duplicated += 1;
      const copies = records.filter((r) => sourceOf(r.headers).id === id);
      note(
        `${id}: ${count} records (${copies.map((r) => `${r.partition}@${r.offset} by ${r.producerId}`).join(', ')})`,
      );
    }
  }
  const log = compareWithLog(records, scanned);
  const queueLeft = await queueReady(options.url, options.queue);
  if (queueLeft > 0) note(`${options.queue}: ${queueLeft} message(s) left, not acknowledged`);
  let exchange: ExchangeVerdict | undefined;
  if (options.exchange) {
    const { output, watch } = options.exchange;
    const stableId = (id: string) => `${options.processorId}/${options.queue}/${id}/${output}/0`;
    const taken = await drainQueue(options.url, watch);
    const seen = new Map<string, number>();
    for (const id of taken) seen.set(id, (seen.get(id) ?? 0) + 1);
    const expected = new Set([...counts.keys()].map(stableId));
    let exchangeMissing = 0;
    for (const id of expected) {
      if (!seen.has(id)) {
        exchangeMissing += 1;
        note(`${watch}: no message ${id}`);
      }
    }
    let withoutRecord = 0;
    for (const id of seen.keys()) {
      if (!expected.has(id)) {
        withoutRecord += 1;
        note(`${watch}: message ${id} has no committed record`);
      }
    }
    exchange = {
      messages: taken.length,
      distinct: seen.size,
      missing: exchangeMissing,
      republished: [...seen.values()].filter((n) => n > 1).length,
      withoutRecord,
    };
  }
  const problems =
    missing +
    duplicated +
    orphans +
    log.abortedRead +
    log.committedUnread +
    queueLeft +
    (exchange ? exchange.missing + exchange.withoutRecord : 0);
  return {
    ok: problems === 0,
    published: options.published,
    records: records.length,
    missing,
    duplicated,
    orphans,
    abortedInLog: log.abortedInLog,
    abortedRead: log.abortedRead,
    committedUnread: log.committedUnread,
    queueLeft,
    ...(exchange ? { exchange } : {}),
    examples,
  };
}

/** Takes every message in `queue` (no consumer of its own may be left): their message ids. */
async function drainQueue(url: string, queue: string): Promise<string[]> {
  const model = await connect(url);
  try {
    const channel = await model.createChannel();
    await channel.prefetch(1000);
    const ids: string[] = [];
    let last = Date.now();
    const { consumerTag } = await channel.consume(
      queue,
      (message) => {
        if (!message) return;
        ids.push(String(message.properties.messageId ?? ''));
        last = Date.now();
        channel.ack(message);
      },
      { noAck: false },
    );
    // Done when the queue holds nothing more and nothing arrived for a moment.
    for (;;) {
      await delay(500);
      if (Date.now() - last < 1000) continue;
      const left = (await channel.checkQueue(queue)).messageCount;
      if (left === 0 && Date.now() - last >= 1000) break;
    }
    await channel.cancel(consumerTag);
    return ids;
  } finally {
    await model.close().catch(() => {});
  }
}
