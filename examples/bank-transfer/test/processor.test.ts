import { TestDriver } from '@exactly/testkit';
import { beforeEach, describe, expect, it } from 'vitest';
import { transferRequest } from '../src/generate.js';
import { bankTransfer, EXTERNAL } from '../src/processor.js';

describe('bank-transfer (TestDriver, no broker)', () => {
  const driver = new TestDriver(bankTransfer());
  beforeEach(() => driver.reset());

  const transfer = (id: string, from: string, to: string, amountCents: number) =>
    driver.send('ann', { id, customer: 'ann', from, to, amountCents });

  it('a deposit and a transfer become debits and credits, keyed by account, with the balances after them', async () => {
    await transfer('t1', EXTERNAL, 'checking', 10_000);
    await transfer('t2', 'checking', 'savings', 2500);
    expect(driver.output('debits').map((r) => [r.key, r.value.amountCents, r.value.balanceCents])).toEqual([
      ['ann/external', -10_000, undefined],
      ['ann/checking', -2500, 7500],
    ]);
    expect(driver.output('credits').map((r) => [r.key, r.value.amountCents, r.value.balanceCents])).toEqual([
      ['ann/checking', 10_000, 10_000],
      ['ann/savings', 2500, 2500],
    ]);
    const balances = await driver.store('balances');
    expect([...balances.entries()].sort()).toEqual([
      ['ann/checking', 7500],
      ['ann/savings', 2500],
    ]);
  });

  it('refuses an overdraft to the dead-letter topic, and leaves every balance as it was', async () => {
    await transfer('t1', EXTERNAL, 'checking', 1000);
    await transfer('t2', 'checking', 'savings', 1500);
    expect(driver.output('debits')).toHaveLength(1);
    const [letter] = driver.deadLetters();
    expect(letter?.reason).toMatch(/insufficient funds: ann\/checking has 1000 cents, the transfer needs 1500/);
    const balances = await driver.store('balances');
    expect(balances.get('ann/checking')).toBe(1000);
    expect(balances.get('ann/savings')).toBeUndefined();
  });

  it('starts from balances a test seeds', async () => {
    (await driver.store('balances')).put('ann/savings', 500);
    await transfer('t1', 'savings', EXTERNAL, 500);
    expect((await driver.store('balances')).get('ann/savings')).toBe(0);
  });

  it.each([
    [
      'a negative amount',
      { id: 't', customer: 'a', from: 'checking', to: 'savings', amountCents: -5 },
      /amount must be positive/,
    ],
    ['the same account', { id: 't', customer: 'a', from: 'savings', to: 'savings', amountCents: 5 }, /same account/],
    ['fractional cents', { id: 't', customer: 'a', from: EXTERNAL, to: 'savings', amountCents: 1.5 }, /whole cents/],
  ])('dead-letters %s with the reason, and moves no money', async (_, request, reason) => {
    await driver.send('a', request);
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

  it("the generator's records: balances never go below zero, and some transfers are refused as overdrafts", async () => {
    for (let i = 0; i < 2000; i++) {
      const { key, value } = transferRequest(i);
      await driver.send(key, value);
    }
    const overdrafts = driver.deadLetters().filter((d) => /insufficient funds/.test(d.reason));
    expect(overdrafts.length).toBeGreaterThan(0);
    for (const [, balance] of (await driver.store('balances')).entries()) expect(balance).toBeGreaterThanOrEqual(0);
  });
});
