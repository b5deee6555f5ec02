import { run } from '@exactly/runtime';
import { runExampleOnBroker } from '@exactly/testkit';
import { describe, expect, inject, it } from 'vitest';
import example from '../src/example.js';

const brokers = inject('kafkaBrokers');

describe('bank-transfer on a real broker', () => {
  it('valid transfers appear once as a debit and a credit; invalid ones once in the dead-letter topic', async () => {
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
    // 1 in 50 requests is invalid on purpose: 80 of 2000 go to the dead-letter topic.
    expect(verdict.outputs.map((o) => o.records)).toEqual([1920, 1920, 80]); // debits, credits, dlq
  });
});
