import { run } from '@exactly/runtime';
import { runExampleOnBroker } from '@exactly/testkit';
import { describe, expect, inject, it } from 'vitest';
import example from '../src/example.js';

const brokers = inject('kafkaBrokers');

describe('notifications on a real broker', () => {
  it('every event appears once on the email, SMS and push topics (read_committed)', async () => {
    const verdict = await runExampleOnBroker(example, {
      brokers,
      records: 2000,
      start: (processor) => run(processor, { brokers, provenance: true, logLevel: 'silent' }),
    });
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
