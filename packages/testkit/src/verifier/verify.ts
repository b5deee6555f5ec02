import type { KafkaSecurity } from '@exactly/core';
import { type KafkaTarget, waitForLeaders, withAdmin } from '../kafka/client.js';
import { type ReadRecord, readTopic } from '../kafka/read-topic.js';
import { type TableCheck, type TableVerdict, tableProblems, verifyTable } from './tables.js';
import { type ScannedRecord, scanTransactions } from './transaction-scan.js';

const SOURCE_TOPIC = 'exactly.source.topic';
const SOURCE_PARTITION = 'exactly.source.partition';
const SOURCE_OFFSET = 'exactly.source.offset';

export interface VerifyOptions {
  readonly brokers: string;
  /** TLS and SASL for the verifier's readers, as in run()'s options. */
  readonly ssl?: KafkaSecurity['ssl'];
  readonly sasl?: KafkaSecurity['sasl'];
  readonly input: string;
  readonly outputs: readonly string[];
  /** Outputs each input must have on each output topic. Default 1. */
  readonly expectPerInput?: number;
  /**
   * The processor's dead-letter topic. An input found there (by its `exactly.source.*` headers) must be there
   * exactly once and have no output on any output topic; the others are checked as usual.
   */
  readonly deadLetter?: string;
  /**
   * Tables the processor writes rows to: each checked against the input (rows once per input, none for a dead
   * letter) and against the output topics (a row exactly when the input's outputs are visible).
   */
  readonly tables?: readonly TableCheck[];
  readonly timeoutMs?: number;
}

export interface OutputVerdict {
  readonly topic: string;
  readonly records: number;
  /** Inputs with fewer outputs here than expected. */
  readonly missing: number;
  /** Inputs with more outputs here than expected. */
  readonly duplicated: number;
  /** Outputs without provenance headers, or citing an input that does not exist. */
  readonly orphans: number;
  /** Pairs of outputs in one output partition whose inputs (same input partition) came in the other order. */
  readonly orderViolations: number;
  /** Records of aborted transactions in the log (found from the markers, not from any reader's filtering). */
  readonly abortedInLog: number;
  /** Records of aborted transactions that the read_committed reader returned: must be 0. */
  readonly abortedRead: number;
  /** Committed (or non-transactional) records that the read_committed reader did not return: must be 0. */
  readonly committedUnread: number;
  /** Transactional records whose marker the scan did not see; judged by the committed view. */
  readonly unresolved: number;
  /** A few examples of each problem, for a person to look at. */
  readonly examples: readonly string[];
}

export interface Verdict {
  readonly ok: boolean;
  readonly inputs: number;
  readonly outputs: readonly OutputVerdict[];
  readonly missing: number;
  readonly duplicated: number;
  readonly orphans: number;
  readonly orderViolations: number;
  readonly abortedRead: number;
  /** With `tables`: each table's check. */
  readonly tables?: readonly TableVerdict[];
}

/**
 * Checks a finished run from the topics alone: every committed input appears exactly `expectPerInput` times in
 * every output topic (found by the `exactly.source.*` provenance headers), nothing cites an unknown input, per
 * input partition the outputs keep input order, and the read_committed view holds no record of an aborted
 * transaction and every committed one (cross-checked against a read_uncommitted scan of the markers).
 * Call it when the pipeline is drained: a read_committed reader waits at a transaction still open.
 */
export async function verifyExactlyOnce(options: VerifyOptions): Promise<Verdict> {
  const expected = options.expectPerInput ?? 1;
  const target: KafkaTarget = { brokers: options.brokers, ssl: options.ssl, sasl: options.sasl };
  const read = (topic: string, isolation: 'read_committed' | 'read_uncommitted') =>
    readTopic(target, topic, { isolation, timeoutMs: options.timeoutMs ?? 120_000 });
  const timeoutMs = options.timeoutMs ?? 120_000;
  // A topic created a moment ago has no leaders yet: reading it would fail at once.
  await withAdmin(target, (admin) =>
    waitForLeaders(
      admin,
      new Map(
        [options.input, ...options.outputs, ...(options.deadLetter ? [options.deadLetter] : [])].map((t) => [
          t,
          undefined,
        ]),
      ),
      timeoutMs,
    ),
  );
  const inputs = await read(options.input, 'read_committed');
  const inputIds = new Set(inputs.map((r) => `${r.partition}:${r.offset}`));
  const deadLettered = new Set<string>();
  const topics = [...options.outputs];
  if (options.deadLetter) {
    for (const record of await read(options.deadLetter, 'read_committed')) {
      if (record.headers[SOURCE_TOPIC] === options.input) {
        deadLettered.add(`${record.headers[SOURCE_PARTITION]}:${record.headers[SOURCE_OFFSET]}`);
      }
    }
    topics.push(options.deadLetter);
  }
  // Dead-lettered inputs: once in the dead-letter topic, nowhere else. The rest: `expected` times per output.
  const expectedFor = (topic: string, id: string): number => {
    if (topic === options.deadLetter) return deadLettered.has(id) ? 1 : 0;
    return deadLettered.has(id) ? 0 : expected;
  };
  /** The inputs each output topic holds (read_committed), for the tables' check. */
  const outputIds = new Map<string, Set<string>>();
  // Topics are read side by side: each has its own consumers.
  const verdicts = await Promise.all(
    topics.map(async (topic) => {
      const [records, scanned] = await Promise.all([
        read(topic, 'read_committed'),
        scanTransactions(target, topic, timeoutMs),
      ]);
      if (topic !== options.deadLetter) {
        outputIds.set(topic, new Set(records.map((r) => `${r.headers[SOURCE_PARTITION]}:${r.headers[SOURCE_OFFSET]}`)));
      }
      return {
        ...checkOutput(topic, records, options.input, inputIds, (id) => expectedFor(topic, id)),
        ...compareWithLog(records, scanned),
      };
    }),
  );
  const sum = (key: 'missing' | 'duplicated' | 'orphans' | 'orderViolations' | 'abortedRead' | 'committedUnread') =>
    verdicts.reduce((total, v) => total + v[key], 0);
  const verdict = {
    inputs: inputs.length,
    outputs: verdicts,
    missing: sum('missing'),
    duplicated: sum('duplicated'),
    orphans: sum('orphans'),
    orderViolations: sum('orderViolations'),
    abortedRead: sum('abortedRead'),
  };
  const tables = await Promise.all(
    (options.tables ?? []).map((check) => verifyTable(check, inputIds, deadLettered, outputIds)),
  );
  const problems =
    tables.reduce((n, t) => n + tableProblems(t), 0) +
    verdict.missing +
    verdict.duplicated +
    verdict.orphans +
    verdict.orderViolations +
    verdict.abortedRead +
    sum('committedUnread');
  return { ok: problems === 0, ...verdict, ...(options.tables ? { tables } : {}) };
}

/** Checks the read_committed view against the fate of every record, as the log's own markers tell it. */
export function compareWithLog(
  records: ReadonlyArray<Pick<ReadRecord, 'partition' | 'offset'>>,
  scanned: readonly ScannedRecord[],
) {
  const read = new Set(records.map((r) => `${r.partition}:${r.offset}`));
  let abortedInLog = 0;
  let abortedRead = 0;
  let committedUnread = 0;
  let unresolved = 0;
  for (const record of scanned) {
    const id = `${record.partition}:${record.offset}`;
    if (record.fate === 'aborted') {
      abortedInLog += 1;
      if (read.has(id)) abortedRead += 1;
    } else if (record.fate === 'unresolved') unresolved += 1;
    else if (!read.has(id)) committedUnread += 1;
  }
  return { abortedInLog, abortedRead, committedUnread, unresolved };
}

type ProvenanceVerdict = Omit<OutputVerdict, 'abortedInLog' | 'abortedRead' | 'committedUnread' | 'unresolved'>;

function checkOutput(
  topic: string,
  records: readonly ReadRecord[],
  inputTopic: string,
  inputIds: ReadonlySet<string>,
  expectedFor: (inputId: string) => number,
): ProvenanceVerdict {
  const examples: string[] = [];
  const note = (line: string) => examples.length < 10 && examples.push(line);
  const counts = new Map<string, number>();
  let orphans = 0;
  let orderViolations = 0;
  // Last input offset seen, per (output partition, input partition).
  const lastSeen = new Map<string, bigint>();
  for (const record of records) {
    const sourceTopic = record.headers[SOURCE_TOPIC];
    const partition = record.headers[SOURCE_PARTITION];
    const offset = record.headers[SOURCE_OFFSET];
    const id = `${partition}:${offset}`;
    if (sourceTopic !== inputTopic || partition === undefined || offset === undefined || !inputIds.has(id)) {
      orphans += 1;
      note(`${topic}/${record.partition}@${record.offset} cites no input (${sourceTopic ?? '-'} ${id})`);
      continue;
    }
    counts.set(id, (counts.get(id) ?? 0) + 1);
    const lane = `${record.partition}/${partition}`;
    const previous = lastSeen.get(lane);
    const current = BigInt(offset);
    if (previous !== undefined && current < previous) {
      orderViolations += 1;
      note(`${topic}/${record.partition}@${record.offset}: input ${id} after input offset ${previous}`);
    }
    lastSeen.set(lane, current);
  }
  let missing = 0;
  let duplicated = 0;
  const missingIds: string[] = [];
  const traced = new Set<string>();
  for (const id of inputIds) {
    const count = counts.get(id) ?? 0;
    const expected = expectedFor(id);
    if (count < expected) {
      missing += 1;
      missingIds.push(id);
      note(`${topic}: input ${id} has ${count} outputs, expected ${expected}`);
    } else if (count > expected) {
      duplicated += 1;
      if (traced.size < 3) traced.add(id);
      note(`${topic}: input ${id} has ${count} outputs, expected ${expected}`);
    }
  }
  // Where each copy of the first duplicates stands, and which producer wrote it: the trail to the writers.
  for (const record of records) {
    const id = `${record.headers[SOURCE_PARTITION]}:${record.headers[SOURCE_OFFSET]}`;
    if (traced.has(id))
      examples.push(`${topic}: input ${id} at ${record.partition}@${record.offset} by producer ${record.producerId}`);
  }
  if (missingIds.length > 0) examples.push(`${topic}: missing inputs by partition: ${offsetRanges(missingIds)}`);
  return { topic, records: records.length, missing, duplicated, orphans, orderViolations, examples };
}

/** `partition:offset` ids as runs per partition, `0: 100-180, 240; 3: 7-9`: where a loss lies, at a glance. */
function offsetRanges(ids: readonly string[]): string {
  const byPartition = new Map<string, bigint[]>();
  for (const id of ids) {
    const [partition = '', offset = '0'] = id.split(':');
    const offsets = byPartition.get(partition) ?? [];
    offsets.push(BigInt(offset));
    byPartition.set(partition, offsets);
  }
  return [...byPartition]
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([partition, offsets]) => {
      const sorted = offsets.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const runs: string[] = [];
      let start = sorted[0] ?? 0n;
      let previous = start;
      for (const offset of [...sorted.slice(1), -1n]) {
        if (offset === previous + 1n) {
          previous = offset;
          continue;
        }
        runs.push(start === previous ? `${start}` : `${start}-${previous}`);
        start = offset;
        previous = offset;
      }
      return `${partition}: ${runs.join(', ')}`;
    })
    .join('; ');
}
