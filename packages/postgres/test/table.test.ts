import { defineProcessor, ExactlyConfigError, json, string, topic } from '@exactly/core';
import { table } from '@exactly/postgres';
import { run } from '@exactly/runtime';
import { TestDriver } from '@exactly/testkit';
import { describe, expect, test } from 'vitest';

interface Transfer {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly cents: number;
}
interface Entry {
  readonly transfer_id: string;
  readonly account: string;
  readonly cents: number;
}

/** The example: a transfer becomes two ledger rows and a receipt. */
const ledger = (options: { onConflict?: 'nothing' | 'update' } = {}) =>
  defineProcessor({
    id: 'ledger-writer',
    input: topic('transfers', { key: string(), value: json<Transfer>() }),
    outputs: {
      entries: table<Entry>(
        'ledger_entries',
        options.onConflict ? { onConflict: { columns: ['transfer_id', 'account'], action: options.onConflict } } : {},
      ),
      receipts: topic('receipts', { key: string(), value: json<{ id: string }>() }),
    },
    handle({ value: t }) {
      if (t.cents <= 0) throw new Error('a transfer moves a positive amount');
      return {
        entries: [
          { value: { transfer_id: t.id, account: t.from, cents: -t.cents } },
          { value: { transfer_id: t.id, account: t.to, cents: t.cents } },
        ],
        receipts: [{ key: t.id, value: { id: t.id } }],
      };
    },
  });

describe('table outputs', () => {
  test("TestDriver: a record's rows and its topic outputs, together; a dead letter's, neither", async () => {
    const driver = new TestDriver(ledger());
    await driver.send('t-1', { id: 't-1', from: 'a', to: 'b', cents: 250 });
    await driver.send('t-2', { id: 't-2', from: 'b', to: 'c', cents: -1 });
    expect(driver.rows('entries')).toEqual([
      { transfer_id: 't-1', account: 'a', cents: -250 },
      { transfer_id: 't-1', account: 'b', cents: 250 },
    ]);
    expect(driver.output('receipts').map((r) => r.value)).toEqual([{ id: 't-1' }]);
    expect(driver.deadLetters().map((d) => d.kind)).toEqual(['handler']);
  });

  test('TestDriver: onConflict nothing keeps the first row, update the last', async () => {
    for (const [action, expected] of [
      ['nothing', 100],
      ['update', 300],
    ] as const) {
      const driver = new TestDriver(ledger({ onConflict: action }));
      await driver.send('t-1', { id: 't-1', from: 'a', to: 'b', cents: 100 });
      await driver.send('t-1', { id: 't-1', from: 'a', to: 'b', cents: 300 });
      expect(driver.rows('entries').map((row) => row.cents)).toEqual([-expected, expected]);
    }
  });

  test('a row that is not an object makes its input a dead letter, saying why', async () => {
    const bad = defineProcessor({
      id: 'bad-rows',
      input: topic('in', { value: json<{ n: number }>() }),
      outputs: { rows: table<{ n: number }>('numbers') },
      handle: ({ value }) => ({ rows: [value as unknown as { value: { n: number } }] }),
    });
    const driver = new TestDriver(bad);
    await driver.send('k', { n: 1 });
    expect(driver.rows('rows')).toEqual([]);
    expect(driver.deadLetters()[0]?.reason).toMatch(/rows\[0\] for table numbers must be \{ value: row \}/);
  });

  test('a table and a topic are read each their own way', () => {
    const driver = new TestDriver(ledger());
    // @ts-expect-error: entries is a table; its rows are read with rows()
    expect(() => driver.output('entries')).toThrow(/is a table: read its rows with rows\('entries'\)/);
    // @ts-expect-error: receipts is a topic; its records are read with output()
    expect(() => driver.rows('receipts')).toThrow(/is a topic/);
  });

  test('rows are typed: a wrong column does not compile', () => {
    defineProcessor({
      id: 'typed',
      input: topic('in', { value: json<{ n: number }>() }),
      outputs: { rows: table<{ n: number }>('numbers') },
      // @ts-expect-error: 'm' is not a column of the row type
      handle: ({ value }) => ({ rows: [{ value: { m: value.n } }] }),
    });
    expect(() => table<{ n: number }>('numbers', { onConflict: { columns: [], action: 'nothing' } })).toThrow(
      /columns must name the unique columns/,
    );
  });

  test('names are checked when the processor is defined', () => {
    expect(() => table('drop table x;')).toThrow(ExactlyConfigError);
    expect(() =>
      defineProcessor({
        id: 'twice',
        input: topic('in', { value: json<{ n: number }>() }),
        outputs: { a: table<{ n: number }>('numbers'), b: table<{ n: number }>('numbers') },
        handle: () => undefined,
      }),
    ).toThrow(/table 'numbers' is already used by outputs.a/);
    expect(table('ledger.entries').name).toBe('ledger.entries');
  });

  test('run() of a processor with tables and no database stops at once, before reaching Kafka, saying how to give one', async () => {
    const saved = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      const started = Date.now();
      await expect(run(ledger(), { brokers: '127.0.0.1:1', logLevel: 'silent' })).rejects.toThrow(
        /postgres: processor 'ledger-writer' writes to table\(s\) ledger_entries: give its PostgreSQL database as .*--postgres URL, or DATABASE_URL/,
      );
      expect(Date.now() - started).toBeLessThan(2000);
      await expect(run(ledger(), { brokers: '127.0.0.1:1', postgres: 'mysql://x' })).rejects.toThrow(
        /postgres: must be a PostgreSQL connection URL/,
      );
    } finally {
      if (saved !== undefined) process.env.DATABASE_URL = saved;
    }
  });
});
