import { consumeToEnd } from '@exactly/testkit';

/** When a topic's committed records were appended: the first and last (LogAppendTime, ms), and how many. */
export interface OutputWindow {
  readonly first: number;
  readonly last: number;
  readonly count: number;
}

/** First and last timestamp (the broker's LogAppendTime) among a topic's committed records, and their count. */
export async function outputWindow(brokers: string, topic: string): Promise<OutputWindow> {
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  let count = 0;
  await consumeToEnd(
    brokers,
    topic,
    { isolation: 'read_committed', timeoutMs: 300_000, clientId: 'exactly-bench' },
    (batch) => {
      for (const message of batch.messages) {
        const at = Number(message.timestamp);
        if (at < first) first = at;
        if (at > last) last = at;
        count += 1;
      }
    },
  );
  return { first, last, count };
}
