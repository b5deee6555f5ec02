// The processor `pnpm chaos` runs: every input fans out to two topics, so a torn transaction would show as an
// input present on one output topic and missing on the other. Topic names come from the environment.
import { defineProcessor, json, string, topic } from '@exactly/core';
import { env, type Item } from './environment.js';

export default defineProcessor({
  id: env('CHAOS_GROUP'),
  input: topic(env('CHAOS_INPUT'), { key: string(), value: json<Item>() }),
  outputs: {
    left: topic(env('CHAOS_LEFT'), { key: string(), value: json<Item>() }),
    right: topic(env('CHAOS_RIGHT'), { key: string(), value: json<Item>() }),
  },
  handle(record) {
    return {
      left: [{ key: record.key, value: { id: record.value.id } }],
      right: [{ key: record.key, value: { id: record.value.id } }],
    };
  },
});
