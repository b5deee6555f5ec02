// The processor `pnpm chaos --rabbitmq` runs: each message of a queue becomes a record on a topic, keyed by its
// message id, and a message on an exchange, so that a message processed twice shows as two records, and one
// lost as none. Names come from the environment.
import { defineProcessor, json, string, topic } from '@exactly/core';
import { exchange, queue } from '@exactly/rabbitmq';
import { env } from './environment.js';

interface Message {
  readonly n: number;
}

export default defineProcessor({
  id: env('CHAOS_GROUP'),
  input: queue(env('CHAOS_QUEUE'), { value: json<Message>() }),
  outputs: {
    out: topic(env('CHAOS_OUT'), { key: string(), value: json<{ id: string; n: number }>() }),
    notify: exchange(env('CHAOS_EXCHANGE'), { value: json<{ id: string }>(), routingKey: 'chaos.out' }),
  },
  handle(record) {
    return {
      out: [{ key: record.messageId, value: { id: record.messageId, n: record.value.n } }],
      notify: [{ value: { id: record.messageId } }],
    };
  },
});
