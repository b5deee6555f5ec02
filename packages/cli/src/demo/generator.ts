import { setTimeout as delay } from 'node:timers/promises';
import { bindSerde, type Processor } from '@exactly/core';
import { type ExampleApp, testClient } from '@exactly/testkit';

/** Writes `count` example records at about `rate` per second, 10 slices a second. Stops early on `stop()`. */
export function startGenerator(
  brokers: string,
  example: ExampleApp,
  processor: Processor,
  count: number,
  rate: number,
) {
  let produced = 0;
  let stopped = false;
  const done = (async () => {
    const input = processor.input;
    const key = await bindSerde(input.key, { topic: input.name, role: 'key' });
    const value = await bindSerde(input.value, { topic: input.name, role: 'value' });
    const producer = testClient(brokers, 'exactly-demo-generator').producer({
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const started = Date.now();
    try {
      while (produced < count && !stopped) {
        const due = Math.min(count, Math.ceil(((Date.now() - started) / 1000) * rate) + Math.ceil(rate / 10));
        const messages = [];
        for (let i = produced; i < due; i++) {
          const record = example.record(i);
          messages.push({ key: await key.serialize(record.key), value: await value.serialize(record.value) });
        }
        if (messages.length > 0) await producer.send({ topic: input.name, messages });
        produced = due;
        await delay(100);
      }
    } finally {
      await producer.disconnect();
    }
  })();
  return {
    produced: () => produced,
    done,
    stop: () => {
      stopped = true;
    },
  };
}
