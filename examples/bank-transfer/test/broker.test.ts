import { run } from '@exactly/runtime';
import { createTopics, topicsOf, verifyExactlyOnce, waitForGroupCaughtUp, writeExampleRecords } from '@exactly/testkit';
import { describe, expect, inject, it } from 'vitest';
import example from '../src/example.js';

const brokers = inject('kafkaBrokers');

describe('bank-transfer on a real broker', () => {
  it('valid transfers appear once as a debit and a credit; invalid ones once in the dead-letter topic', async () => {
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
    // 1 in 50 requests is invalid on purpose: 80 of 2000 go to the dead-letter topic.
    expect(verdict.outputs.map((o) => o.records)).toEqual([1920, 1920, 80]); // debits, credits, dlq
  });
});
