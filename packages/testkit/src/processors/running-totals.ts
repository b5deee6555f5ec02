import { defineProcessor, json, store, string, topic } from '@exactly/core';
import { testClient } from '../kafka/client.js';

/** The topics (and group) of a running-totals processor. */
export interface RunningTotalsTopics {
  readonly id: string;
  readonly input: string;
  readonly output: string;
}

/**
 * A stateful processor for tests and chaos: each input `{ id, amount }` adds its amount to its key's total in
 * a store and emits the new total `{ id, total }` under the same key. `verifyRunningTotals` checks a run.
 */
export function runningTotals(names: RunningTotalsTopics, behaviour: { beforeEach?: () => void | Promise<void> } = {}) {
  return defineProcessor({
    id: names.id,
    input: topic(names.input, { key: string(), value: json<{ id: number; amount: number }>() }),
    stores: { totals: store({ key: string(), value: json<number>() }) },
    outputs: { totals: topic(names.output, { key: string(), value: json<{ id: number; total: number }>() }) },
    async handle({ key, value }, { stores }) {
      await behaviour.beforeEach?.();
      if (key === null) throw new Error('a record without a key has no total');
      const total = (stores.totals.get(key) ?? 0) + value.amount;
      stores.totals.put(key, total);
      return { totals: [{ key, value: { id: value.id, total } }] };
    },
  });
}

/** Writes `count` records `{ id, amount }` over `keys` keys (`account-<n>`), ids from `startId`. */
export async function generateAmounts(options: {
  readonly brokers: string;
  readonly topic: string;
  readonly count: number;
  readonly keys: number;
  readonly startId?: number;
}): Promise<void> {
  const producer = testClient(options.brokers, 'exactly-amounts').producer({
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  const start = options.startId ?? 0;
  try {
    for (let first = start; first < start + options.count; first += 1000) {
      const messages = [];
      for (let id = first; id < Math.min(first + 1000, start + options.count); id++) {
        messages.push({ key: `account-${id % options.keys}`, value: JSON.stringify({ id, amount: amountOf(id) }) });
      }
      await producer.send({ topic: options.topic, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

/** A deterministic amount per id, positive and negative. */
export function amountOf(id: number): number {
  return ((id * 7919) % 201) - 100;
}
