// `pnpm bench --rabbitmq`, contender (a): Exactly's queue input, run by `exactly run` with default settings. Each
// message of the queue (a ~1 KB JSON body) is parsed and written, as is, to one Kafka topic keyed by its id.
import { defineProcessor, json, string, topic } from '@exactly/core';
import { queue } from '@exactly/rabbitmq';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (pnpm bench --rabbitmq sets it)`);
  return value;
};

interface Message {
  readonly id: number;
  readonly sentAt: number;
  readonly pad: string;
}

export default defineProcessor({
  id: env('BENCH_GROUP'),
  input: queue(env('BENCH_QUEUE'), { value: json<Message>() }),
  outputs: { left: topic(env('BENCH_LEFT'), { key: string(), value: json<Message>() }) },
  handle: ({ value }) => ({ left: [{ key: String(value.id), value }] }),
});
