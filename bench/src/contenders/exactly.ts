// Contender "Exactly, exactly-once": the real runtime with default settings, run by `exactly run`.
// Workload 'fan-out': parse a 1 KB JSON record, emit one record to each of two output topics.
// Workload 'count': count the records per key in a store, emit the key's new count (no parse: the value is
// not read, as Kafka Streams' groupByKey().count() does not read it).
import { bytes, defineProcessor, json, store, string, topic } from '@exactly/core';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (pnpm bench sets it)`);
  return value;
};

interface Payment {
  readonly id: number;
  readonly pad: string;
}

const fanOut = () =>
  defineProcessor({
    id: env('BENCH_GROUP'),
    input: topic(env('BENCH_INPUT'), { key: string(), value: json<Payment>() }),
    outputs: {
      left: topic(env('BENCH_LEFT'), { key: string(), value: json<Payment>() }),
      right: topic(env('BENCH_RIGHT'), { key: string(), value: json<{ id: number }>() }),
    },
    handle({ key, value }) {
      return { left: [{ key, value }], right: [{ key, value: { id: value.id } }] };
    },
  });

const count = () =>
  defineProcessor({
    id: env('BENCH_GROUP'),
    input: topic(env('BENCH_INPUT'), { key: string(), value: bytes() }),
    stores: { counts: store({ key: string(), value: json<number>() }) },
    outputs: { left: topic(env('BENCH_LEFT'), { key: string(), value: string() }) },
    handle({ key }, { stores }) {
      const counted = (stores.counts.get(key ?? '') ?? 0) + 1;
      stores.counts.put(key ?? '', counted);
      return { left: [{ key, value: String(counted) }] };
    },
  });

export default env('BENCH_WORKLOAD') === 'count' ? count() : fanOut();
