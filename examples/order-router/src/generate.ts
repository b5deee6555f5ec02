import type { Order } from './processor.js';

const SKUS = ['apple', 'pear', 'plum', 'fig', 'kiwi'] as const;

/** The i-th order: deterministic, 1 to 3 items, keyed by customer (so a customer's orders stay in order). */
export function order(i: number): { key: string; value: Order } {
  const customer = `customer-${i % 97}`;
  const items = Array.from({ length: 1 + (i % 3) }, (_, n) => ({
    sku: SKUS[(i + n) % SKUS.length] as string,
    qty: 1 + ((i + n) % 4),
    price: 0.5 + ((i * 7 + n) % 20) / 4,
  }));
  return { key: customer, value: { id: `order-${i}`, customer, items } };
}
