import { bindSerde, type Processor } from '@exactly/core';
import type { ExampleApp } from './example.js';
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
    outputs: Object.values(processor.outputs).map((t) => t.name),
    deadLetter: processor.deadLetter,
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
  const input = processor.input;
  const key = await bindSerde(input.key, { topic: input.name, role: 'key' });
  const value = await bindSerde(input.value, { topic: input.name, role: 'value' });
  const producer = testClient(brokers, 'exactly-example-generator').producer({
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  try {
    const messages = [];
    for (let i = from; i < from + count; i++) {
      const record = example.record(i);
      messages.push({
        key: record.key === null ? null : await key.serialize(record.key),
        value: await value.serialize(record.value),
      });
    }
    for (let start = 0; start < messages.length; start += 500) {
      await producer.send({ topic: input.name, messages: messages.slice(start, start + 500) });
    }
  } finally {
    await producer.disconnect();
  }
}
