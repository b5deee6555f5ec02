import { run } from '@exactly/runtime';
import { createTopics, topicsOf, verifyExactlyOnce, waitForGroupCaughtUp, writeExampleRecords } from '@exactly/testkit';
import { describe, expect, inject, it } from 'vitest';
import example from '../src/example.js';

const brokers = inject('kafkaBrokers');

describe('notifications on a real broker', () => {
  it('every event appears once on the email, SMS and push topics (read_committed)', async () => {
    const processor = example.processor(`-${Date.now().toString(36)}`);
    const topics = topicsOf(processor);
    await createTopics(
      brokers,
      [topics.input, ...topics.outputs, topics.deadLetter].map((name) => ({ name, partitions: 3 })),
    );
    await writeExampleRecords(brokers, example, processor, 0, 2000);
    const app = await run(processor, { brokers, provenance: true, logLevel: 'silent' });
    try {
      await waitForGroupCaughtUp(brokers, processor.id, topics.input);
    } finally {
      await app.stop();
    }
    const verdict = await verifyExactlyOnce({ brokers, ...topics });
    expect(verdict).toMatchObject({
      ok: true,
      inputs: 2000,
      missing: 0,
      duplicated: 0,
      orderViolations: 0,
      abortedRead: 0,
    });
    expect(verdict.outputs.map((o) => o.records)).toEqual([2000, 2000, 2000, 0]); // email, sms, push, dlq
  });
});
