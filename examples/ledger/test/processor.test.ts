import { TestDriver } from '@exactly/testkit';
import { beforeEach, describe, expect, it } from 'vitest';
import { transfer } from '../src/generate.js';
import { LEDGER_DDL, ledgerWriter } from '../src/processor.js';

describe('ledger (TestDriver, no broker)', () => {
  const driver = new TestDriver(ledgerWriter());
  beforeEach(() => driver.reset());

  const send = (id: string, from: string, to: string, cents: number) => driver.send(id, { id, from, to, cents });

  it('a transfer becomes a debit and a credit row, summing to zero, and one receipt', async () => {
    await send('t1', 'ann', 'bob', 2500);
    expect(driver.rows('entries')).toEqual([
      { transfer_id: 't1', account: 'ann', cents: -2500 },
      { transfer_id: 't1', account: 'bob', cents: 2500 },
    ]);
    expect(driver.rows('entries').reduce((sum, row) => sum + row.cents, 0)).toBe(0);
    expect(driver.output('receipts').map((r) => [r.key, r.value])).toEqual([['t1', { id: 't1' }]]);
    expect(driver.deadLetters()).toEqual([]);
  });

  it('several transfers: their rows in order, two each, and their receipts in order', async () => {
    await send('t1', 'ann', 'bob', 100);
    await send('t2', 'bob', 'cy', 40);
    await send('t3', 'cy', 'ann', 7);
    expect(driver.rows('entries').map((r) => [r.transfer_id, r.account, r.cents])).toEqual([
      ['t1', 'ann', -100],
      ['t1', 'bob', 100],
      ['t2', 'bob', -40],
      ['t2', 'cy', 40],
      ['t3', 'cy', -7],
      ['t3', 'ann', 7],
    ]);
    expect(driver.output('receipts').map((r) => r.key)).toEqual(['t1', 't2', 't3']);
  });

  it.each([
    ['a negative amount', { id: 't', from: 'ann', to: 'bob', cents: -5 }, /invalid transfer: cents must be positive/],
    ['a zero amount', { id: 't', from: 'ann', to: 'bob', cents: 0 }, /invalid transfer: cents must be positive/],
    ['fractional cents', { id: 't', from: 'ann', to: 'bob', cents: 1.5 }, /invalid transfer: cents must be a whole/],
    ['the same account', { id: 't', from: 'ann', to: 'ann', cents: 5 }, /invalid transfer: same account.*\(ann\)/],
  ])('dead-letters %s with the reason, and writes no row and no receipt', async (_, bad, reason) => {
    await driver.send('t', bad);
    expect(driver.rows('entries')).toEqual([]);
    expect(driver.output('receipts')).toEqual([]);
    const letters = driver.deadLetters();
    expect(letters).toHaveLength(1);
    expect(letters[0]?.kind).toBe('handler');
    expect(letters[0]?.reason).toMatch(reason);
  });

  it('a bad transfer between good ones: the good ones are written, the bad one is a dead letter', async () => {
    await send('t1', 'ann', 'bob', 100);
    await send('t2', 'bob', 'bob', 100);
    await send('t3', 'bob', 'ann', 50);
    expect([...new Set(driver.rows('entries').map((r) => r.transfer_id))]).toEqual(['t1', 't3']);
    expect(driver.output('receipts').map((r) => r.key)).toEqual(['t1', 't3']);
    expect(driver.deadLetters().map((d) => d.key?.toString())).toEqual(['t2']);
  });

  it('dead-letters a malformed transfer (not JSON) as a decode error, keeping its bytes', async () => {
    await driver.sendRaw({ key: Buffer.from('t'), value: Buffer.from('{"id": "t", ') });
    const [letter] = driver.deadLetters();
    expect(letter?.kind).toBe('decode');
    expect(letter?.value?.toString()).toBe('{"id": "t", ');
    expect(driver.rows('entries')).toEqual([]);
  });

  it("the generator's transfers: the ledger sums to zero, and one in 50 of each invalid kind is refused", async () => {
    for (let i = 0; i < 500; i++) {
      const { key, value } = transfer(i);
      await driver.send(key, value);
    }
    expect(driver.deadLetters()).toHaveLength(30);
    expect(driver.rows('entries')).toHaveLength(2 * 470);
    expect(driver.rows('entries').reduce((sum, row) => sum + row.cents, 0)).toBe(0);
    expect(driver.output('receipts')).toHaveLength(470);
  });

  it('the DDL is the one the README gives', () => {
    expect(LEDGER_DDL).toBe(
      'CREATE TABLE IF NOT EXISTS ledger_entries (transfer_id text NOT NULL, account text NOT NULL, cents bigint NOT NULL, PRIMARY KEY (transfer_id, account))',
    );
  });
});
