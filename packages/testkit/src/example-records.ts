import { type AnyTopic, bindSerde, changelogTopic, isExchange, isQueue, isTable, type Processor } from '@exactly/core';
import type { ExampleApp } from './example.js';
import type { TopicSpec } from './kafka/client.js';
import { testClient } from './kafka/client.js';

export interface ProcessorTopics {
  readonly input: string;
  readonly outputs: readonly string[];
  readonly deadLetter: string;
}

/** The topics a processor reads and writes. */
export function topicsOf(processor: Processor): ProcessorTopics {
  return {
    input: processor.input.name,
    outputs: Object.values(processor.outputs)
      .filter((output): output is AnyTopic => !isTable(output) && !isExchange(output))
      .map((t) => t.name),
    deadLetter: processor.deadLetter,
  };
}

/**
 * Every topic a processor needs, `partitions` each: its input, outputs and dead-letter topic, and its stores'
 * changelogs (compacted).
 */
export function topicSpecsOf(processor: Processor, partitions: number): TopicSpec[] {
  const topics = topicsOf(processor);
  return [
    ...[topics.input, ...topics.outputs, topics.deadLetter].map((name) => ({ name, partitions })),
    ...Object.keys(processor.stores ?? {}).map((store) => ({
      name: changelogTopic(processor.id, store),
      partitions,
      config: { 'cleanup.policy': 'compact' },
    })),
  ];
}

/** Encodes an example's generated records with the processor's input serdes, as they go to Kafka. */
export async function exampleEncoder(example: ExampleApp, processor: Processor) {
  const input = processor.input;
  if (isQueue(input)) throw new TypeError(`processor '${processor.id}' reads queue ${input.name}, not a topic`);
  const key = await bindSerde(input.key, { topic: input.name, role: 'key' });
  const value = await bindSerde(input.value, { topic: input.name, role: 'value' });
  return async (i: number): Promise<{ key: Buffer | null; value: Buffer }> => {
    const record = example.record(i);
    return {
      key: record.key === null ? null : await key.serialize(record.key),
      value: await value.serialize(record.value),
    };
  };
}

/**
 * Writes records `from` .. `from + count - 1` of an example's generator to the processor's input topic,
 * encoded with the input topic's own serdes, with an idempotent producer.
 */
export async function writeExampleRecords(
  brokers: string,
  example: ExampleApp,
  processor: Processor,
  from: number,
  count: number,
): Promise<void> {
  const encode = await exampleEncoder(example, processor);
  const producer = testClient(brokers, 'exactly-example-generator').producer({
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  try {
    for (let start = from; start < from + count; start += 500) {
      const messages = [];
      for (let i = start; i < Math.min(start + 500, from + count); i++) messages.push(await encode(i));
      await producer.send({ topic: processor.input.name, messages });
    }
  } finally {
    await producer.disconnect();
  }
}
