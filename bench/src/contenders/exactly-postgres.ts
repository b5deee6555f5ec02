// Contenders "Exactly with PostgreSQL tables" (`pnpm bench --postgres`), run by `exactly run` with DATABASE_URL set.
// Workload 'fan-out' with table outputs: parse a 1 KB JSON record, write `{id}` as a row of BENCH_RIGHT_TABLE, and
// the record to topic BENCH_LEFT ('exactly-pg-mixed': two-phase commit) or, when BENCH_LEFT_TABLE is set, as a row
// (id, pad) of that table ('exactly-pg-tables': no topic output, one PostgreSQL transaction per batch). The
// benchmark creates the tables (bench/src/tables.ts); their `at` column takes its default (clock_timestamp()).
import { defineProcessor, json, string, topic } from '@exactly/core';
import { table } from '@exactly/postgres';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (pnpm bench --postgres sets it)`);
  return value;
};

interface Payment {
  readonly id: number;
  readonly pad: string;
}

const input = topic(env('BENCH_INPUT'), { key: string(), value: json<Payment>() });
const right = table<{ id: number }>(env('BENCH_RIGHT_TABLE'));
const leftTable = process.env.BENCH_LEFT_TABLE;

const tablesOnly = (name: string) =>
  defineProcessor({
    id: env('BENCH_GROUP'),
    input,
    outputs: { left: table<{ id: number; pad: string }>(name), right },
    handle({ value }) {
      return { left: [{ value: { id: value.id, pad: value.pad } }], right: [{ value: { id: value.id } }] };
    },
  });

const mixed = () =>
  defineProcessor({
    id: env('BENCH_GROUP'),
    input,
    outputs: { left: topic(env('BENCH_LEFT'), { key: string(), value: json<Payment>() }), right },
    handle({ key, value }) {
      return { left: [{ key, value }], right: [{ value: { id: value.id } }] };
    },
  });

export default leftTable ? tablesOnly(leftTable) : mixed();
