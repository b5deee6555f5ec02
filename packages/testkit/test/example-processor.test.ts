// An example to copy: a small processor and its unit tests with TestDriver (no broker needed).
// In an application the processor lives in its own module, e.g. src/order-router.ts, and the test imports it.
import { defineProcessor, json, string, topic } from '@exactly/core';
import { TestDriver } from '@exactly/testkit';
import { beforeEach, describe, expect, it } from 'vitest';

interface Order {
  id: string;
  express: boolean;
  items: Array<{ sku: string; qty: number }>;
}

interface Shipment {
  orderId: string;
  sku: string;
  qty: number;
  lane: 'express' | 'standard';
}

interface Rejection {
  orderId: string;
  reason: string;
}

/** One shipment per item, keyed by SKU (so a warehouse partition sees all of one SKU); empty orders are rejected. */
const orderRouter = defineProcessor({
  id: 'order-router',
  input: topic('orders', { key: string(), value: json<Order>() }),
  outputs: {
    shipments: topic('shipments', { key: string(), value: json<Shipment>() }),
    rejected: topic('orders-rejected', { key: string(), value: json<Rejection>() }),
  },
  handle(record) {
    const order = record.value;
    if (order.items.length === 0) {
      return { rejected: [{ key: record.key, value: { orderId: order.id, reason: 'no items' } }] };
    }
    const lane = order.express ? 'express' : 'standard';
    return {
      shipments: order.items.map((item) => ({
        key: item.sku,
        value: { orderId: order.id, sku: item.sku, qty: item.qty, lane },
      })),
    };
  },
});

describe('order-router', () => {
  const driver = new TestDriver(orderRouter);
  beforeEach(() => driver.reset());

  it('ships each item of an order, keyed by SKU', async () => {
    await driver.send('customer-7', {
      id: 'o-1',
      express: false,
      items: [
        { sku: 'A', qty: 1 },
        { sku: 'B', qty: 2 },
      ],
    });

    expect(driver.output('shipments').map((r) => [r.key, r.value])).toEqual([
      ['A', { orderId: 'o-1', sku: 'A', qty: 1, lane: 'standard' }],
      ['B', { orderId: 'o-1', sku: 'B', qty: 2, lane: 'standard' }],
    ]);
    expect(driver.output('rejected')).toEqual([]);
  });

  it('uses the express lane for express orders', async () => {
    await driver.send('customer-7', { id: 'o-2', express: true, items: [{ sku: 'A', qty: 1 }] });

    expect(driver.output('shipments')[0]?.value.lane).toBe('express');
  });

  it('rejects an order without items', async () => {
    await driver.send('customer-7', { id: 'o-3', express: false, items: [] });

    expect(driver.output('shipments')).toEqual([]);
    expect(driver.output('rejected').map((r) => r.value)).toEqual([{ orderId: 'o-3', reason: 'no items' }]);
  });

  it('sends a record that is not JSON to the dead-letter topic, untouched', async () => {
    const value = Buffer.from('{"id": "o-4", ');
    await driver.sendRaw({ key: Buffer.from('customer-7'), value });

    const [letter] = driver.deadLetters();
    expect(letter?.topic).toBe('order-router.dlq');
    expect(letter?.kind).toBe('decode');
    expect(letter?.value).toEqual(value);
    expect(letter?.headers['exactly.error.message']).toMatch(/not valid JSON/);
    expect(driver.output('shipments')).toEqual([]);
  });
});
