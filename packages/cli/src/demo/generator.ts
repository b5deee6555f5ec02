import { setTimeout as delay } from 'node:timers/promises';
import type { Processor } from '@exactly/core';
import { type ExampleApp, exampleEncoder, testClient } from '@exactly/testkit';

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
    const encode = await exampleEncoder(example, processor);
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
        for (let i = produced; i < due; i++) messages.push(await encode(i));
        if (messages.length > 0) await producer.send({ topic: processor.input.name, messages });
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
