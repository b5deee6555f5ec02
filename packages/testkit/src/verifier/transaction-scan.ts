import type { Batch, KafkaMessage } from 'kafkajs';
import type { KafkaTarget } from '../kafka/client.js';
import { consumeToEnd, textHeaders } from '../kafka/consume-to-end.js';

/** What KafkaJS keeps of a record batch but does not type: the raw records, control records included. */
type RawMessage = KafkaMessage & {
  readonly isControlRecord?: boolean;
  readonly batchContext?: { readonly inTransaction?: boolean; readonly producerId?: string };
};

/**
 * `unresolved`: a transactional record whose marker this scan did not see. KafkaJS never hands over a fetch
 * made only of control records, so a marker that arrives alone is invisible; large fetches make that rare.
 */
export type RecordFate = 'committed' | 'aborted' | 'unresolved' | 'plain';

export interface ScannedRecord {
  readonly partition: number;
  readonly offset: string;
  readonly fate: RecordFate;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Reads every data record of a topic read_uncommitted and decides each one's fate from the transaction markers
 * in the log itself: a transactional record is `committed` or `aborted` by the next control record of its
 * producer in that partition (`unresolved` if the scan saw none); a non-transactional record is `plain`.
 * This does not trust any reader's filtering, so it can check that a read_committed reader filtered right.
 */
export async function scanTransactions(
  brokers: KafkaTarget,
  topic: string,
  timeoutMs: number,
): Promise<ScannedRecord[]> {
  const out: ScannedRecord[] = [];
  // Per partition: next offset to take (dedupes records a fetch returns twice), and open records per producer.
  const next = new Map<number, bigint>();
  const pending = new Map<string, Array<Omit<ScannedRecord, 'fate'>>>();
  await consumeToEnd(
    brokers,
    topic,
    // Big fetches: a marker rarely arrives in a fetch of its own (which KafkaJS never hands over).
    { isolation: 'read_uncommitted', timeoutMs, clientId: 'exactly-verifier', maxBytesPerPartition: 32 * 1024 * 1024 },
    (batch) => scanBatch(batch, next, pending, out),
  );
  for (const records of pending.values()) for (const record of records) out.push({ ...record, fate: 'unresolved' });
  return out;
}

function scanBatch(
  batch: Batch,
  next: Map<number, bigint>,
  pending: Map<string, Array<Omit<ScannedRecord, 'fate'>>>,
  out: ScannedRecord[],
): void {
  const raw = (batch as unknown as { rawMessages: RawMessage[] }).rawMessages;
  for (const message of raw) {
    const offset = BigInt(message.offset);
    if (offset < (next.get(batch.partition) ?? 0n)) continue;
    next.set(batch.partition, offset + 1n);
    const producer = `${batch.partition}/${message.batchContext?.producerId ?? '-'}`;
    if (message.isControlRecord) {
      // Control record key: int16 version, int16 type (0 = abort, 1 = commit).
      const fate: RecordFate = message.key?.readInt16BE(2) === 1 ? 'committed' : 'aborted';
      for (const record of pending.get(producer) ?? []) out.push({ ...record, fate });
      pending.delete(producer);
      continue;
    }
    const record = { partition: batch.partition, offset: message.offset, headers: textHeaders(message) };
    if (!message.batchContext?.inTransaction) {
      out.push({ ...record, fate: 'plain' });
      continue;
    }
    const open = pending.get(producer);
    if (open) open.push(record);
    else pending.set(producer, [record]);
  }
}
