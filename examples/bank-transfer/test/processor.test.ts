import { TestDriver } from '@exactly/testkit';
import { beforeEach, describe, expect, it } from 'vitest';
import { bankTransfer } from '../src/processor.js';

describe('bank-transfer (TestDriver, no broker)', () => {
  const driver = new TestDriver(bankTransfer());
  beforeEach(() => driver.reset());

  it('a transfer becomes a debit of the sender and a credit of the receiver, keyed by account', async () => {
    await driver.send('t1', { id: 't1', from: 'alice', to: 'bob', amountCents: 2500 });
    expect(driver.output('debits')).toMatchObject([
      { key: 'alice', value: { transferId: 't1', account: 'alice', amountCents: -2500 } },
    ]);
    expect(driver.output('credits')).toMatchObject([
      { key: 'bob', value: { transferId: 't1', account: 'bob', amountCents: 2500 } },
    ]);
    expect(driver.deadLetters()).toEqual([]);
  });

  it.each([
    ['a negative amount', { id: 't', from: 'a', to: 'b', amountCents: -5 }, /amount must be positive/],
    ['the same account', { id: 't', from: 'a', to: 'a', amountCents: 5 }, /same account/],
    ['fractional cents', { id: 't', from: 'a', to: 'b', amountCents: 1.5 }, /whole cents/],
  ])('dead-letters %s with the reason, and moves no money', async (_, request, reason) => {
    await driver.send('t', request);
    expect(driver.output('debits')).toEqual([]);
    expect(driver.output('credits')).toEqual([]);
    const [letter] = driver.deadLetters();
    expect(letter?.kind).toBe('handler');
    expect(letter?.reason).toMatch(reason);
  });

  it('dead-letters a malformed request (not JSON) as a decode error, keeping its bytes', async () => {
    await driver.sendRaw({ key: Buffer.from('t'), value: Buffer.from('{"id": "t", ') });
    const [letter] = driver.deadLetters();
    expect(letter?.kind).toBe('decode');
    expect(letter?.value?.toString()).toBe('{"id": "t", ');
  });
});
