// The processor `pnpm chaos --postgres` runs: every input becomes a record on one topic and a row in PostgreSQL,
// committed together by two-phase commit, so a torn transaction would show as an input with a row and no record,
// or the reverse. The row names its input, for the verifier. Names come from the environment.
import { defineProcessor, json, string, topic } from '@exactly/core';
import { table } from '@exactly/postgres';
import { env, type Item } from './environment.js';

export default defineProcessor({
  id: env('CHAOS_GROUP'),
  input: topic(env('CHAOS_INPUT'), { key: string(), value: json<Item>() }),
  outputs: {
    left: topic(env('CHAOS_LEFT'), { key: string(), value: json<Item>() }),
    rows: table<{ id: number; source_partition: number; source_offset: string }>(env('CHAOS_TABLE')),
  },
  handle(record) {
    return {
      left: [{ key: record.key, value: { id: record.value.id } }],
      rows: [{ value: { id: record.value.id, source_partition: record.partition, source_offset: record.offset } }],
    };
  },
});
