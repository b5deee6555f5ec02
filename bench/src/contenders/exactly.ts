// Contender "Exactly, exactly-once": the real runtime with default settings, run by `exactly run`.
// Workload: parse a 1 KB JSON record, emit one record to each of two output topics.
import { defineProcessor, json, string, topic } from '@exactly/core';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (pnpm bench sets it)`);
  return value;
};

interface Payment {
  readonly id: number;
  readonly pad: string;
}

export default defineProcessor({
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
