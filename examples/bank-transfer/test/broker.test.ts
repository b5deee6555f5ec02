import { run } from '@exactly/runtime';
import { runExampleOnBroker, TestDriver } from '@exactly/testkit';
import { describe, expect, inject, it } from 'vitest';
import example from '../src/example.js';
import { bankTransfer } from '../src/processor.js';

const brokers = inject('kafkaBrokers');

describe('bank-transfer on a real broker', () => {
  it('each transfer once as a debit and a credit, or once in the dead-letter topic, with the balances a TestDriver computes', async () => {
    const records = 2000;
    const verdict = await runExampleOnBroker(example, {
      brokers,
      records,
      start: (processor) => run(processor, { brokers, provenance: true, logLevel: 'silent' }),
    });
    expect(verdict).toMatchObject({
      ok: true,
      inputs: records,
      missing: 0,
      duplicated: 0,
      orderViolations: 0,
      abortedRead: 0,
    });
    // The same records through the TestDriver: the broker run, spread over partitions by customer, must refuse
    // exactly the same overdrafts (a customer's balances live in one partition's store).
    const driver = new TestDriver(bankTransfer());
    for (let i = 0; i < records; i++) {
      const { key, value } = example.record(i);
      await driver.send(key, value);
    }
    const refused = driver.deadLetters().length;
    expect(refused).toBeGreaterThan(40); // the invalid ones, and overdrafts
    expect(verdict.outputs.map((o) => o.records)).toEqual([records - refused, records - refused, refused]);
  });
});
