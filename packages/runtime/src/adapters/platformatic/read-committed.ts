import { AbortedTransactions, markerOf } from '@exactly/read-committed/aborted-transactions';
import { consumerFetchesChannel, IS_CONTROL, IS_TRANSACTIONAL, type RecordsBatch } from '@platformatic/kafka';

/** A fetch answer as far as the filter needs it (@platformatic/kafka 2.12's FetchResponse). */
interface FetchAnswer {
  readonly responses: ReadonlyArray<{
    readonly partitions: Array<{
      readonly abortedTransactions?: ReadonlyArray<{ producerId: bigint; firstOffset: bigint }> | null;
      records?: RecordsBatch[] | null;
    }>;
  }>;
}

/** The consumers whose fetches get Kafka's read_committed rule applied (ours only, never the application's). */
const filtered = new WeakSet<object>();
let subscribed = false;

/**
 * Applies Kafka's read_committed rule to every fetch answer of `consumer` before its stream reads it.
 * @platformatic/kafka 2.12's own filter lets aborted records through (see AbortedTransactions); it runs inside
 * the client, so the answer is corrected at the client's documented tracing point for fetches, which sees the
 * answer before the stream does. An aborted batch keeps its place with no records, so the stream still moves
 * its position past it.
 */
export function applyReadCommittedRule(consumer: object): void {
  filtered.add(consumer);
  if (subscribed) return;
  subscribed = true;
  consumerFetchesChannel.asyncStart.subscribe((event) => {
    const { client, result } = event as { client?: object; result?: unknown };
    if (client !== undefined && filtered.has(client) && result !== undefined) dropAborted(result as FetchAnswer);
  });
}

function dropAborted(answer: FetchAnswer): void {
  for (const topic of answer.responses) {
    for (const partition of topic.partitions) {
      if (!partition.abortedTransactions?.length || !partition.records) continue;
      const aborted = new AbortedTransactions(partition.abortedTransactions);
      partition.records = partition.records.map((batch) => {
        const control = (batch.attributes & IS_CONTROL) !== 0;
        const drop = aborted.drops({
          lastOffset: batch.firstOffset + BigInt(batch.lastOffsetDelta),
          producerId: batch.producerId,
          transactional: (batch.attributes & IS_TRANSACTIONAL) !== 0,
          marker: control ? markerOf(batch.records[0]?.key) : undefined,
        });
        return drop ? { ...batch, records: [] } : batch;
      });
    }
  }
}
