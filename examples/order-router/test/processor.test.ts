import { TestDriver } from '@exactly/testkit';
import { beforeEach, describe, expect, it } from 'vitest';
import { order } from '../src/generate.js';
import { orderRouter } from '../src/processor.js';

describe('order-router (TestDriver, no broker)', () => {
  const driver = new TestDriver(orderRouter());
  beforeEach(() => driver.reset());

  it('turns an order into one shipment, one invoice and one audit entry, keyed by customer', async () => {
    const { key, value } = order(4); // customer-4, 2 items
    await driver.send(key, value);
    expect(driver.output('shipments')).toMatchObject([{ key, value: { orderId: 'order-4', customer: key, lines: 2 } }]);
    expect(driver.output('invoices')).toMatchObject([{ key, value: { orderId: 'order-4' } }]);
    expect(driver.output('audit')).toMatchObject([{ key, value: { orderId: 'order-4', event: 'order-routed' } }]);
  });

  it('adds up the invoice in cents, exactly', async () => {
    await driver.send('c', {
      id: 'o',
      customer: 'c',
      items: [
        { sku: 'fig', qty: 3, price: 0.1 },
        { sku: 'kiwi', qty: 1, price: 19.99 },
      ],
    });
    expect(driver.output('invoices')[0]?.value.totalCents).toBe(30 + 1999);
  });

  it('dead-letters an order without items, and writes nothing else for it', async () => {
    await driver.send('c', { id: 'empty', customer: 'c', items: [] });
    expect(driver.output('shipments')).toEqual([]);
    expect(driver.output('invoices')).toEqual([]);
    expect(driver.deadLetters()).toMatchObject([{ kind: 'handler', reason: expect.stringContaining('has no items') }]);
  });
});
