import { defineProcessor, json, string, topic } from '@exactly/core';

export interface Order {
  readonly id: string;
  readonly customer: string;
  readonly items: ReadonlyArray<{ readonly sku: string; readonly qty: number; readonly price: number }>;
}
export interface Shipment {
  readonly orderId: string;
  readonly customer: string;
  readonly lines: number;
}
export interface Invoice {
  readonly orderId: string;
  readonly customer: string;
  /** Cents, to keep money exact. */
  readonly totalCents: number;
}
export interface Audit {
  readonly orderId: string;
  readonly event: 'order-routed';
}

/**
 * Every order becomes one shipment, one invoice and one audit entry, written in one transaction with the
 * order's offset: a reader never sees an invoice without its shipment, and never sees either twice.
 * `suffix` names a separate set of topics (each `pnpm start` run uses fresh ones).
 */
export function orderRouter(suffix = '') {
  return defineProcessor({
    id: `order-router${suffix}`,
    input: topic(`orders${suffix}`, { key: string(), value: json<Order>() }),
    outputs: {
      shipments: topic(`shipments${suffix}`, { key: string(), value: json<Shipment>() }),
      invoices: topic(`invoices${suffix}`, { key: string(), value: json<Invoice>() }),
      audit: topic(`orders-audit${suffix}`, { key: string(), value: json<Audit>() }),
    },
    handle({ key, value: order }) {
      if (order.items.length === 0) throw new Error(`order ${order.id} has no items`);
      const totalCents = order.items.reduce((sum, item) => sum + Math.round(item.price * 100) * item.qty, 0);
      return {
        shipments: [{ key, value: { orderId: order.id, customer: order.customer, lines: order.items.length } }],
        invoices: [{ key, value: { orderId: order.id, customer: order.customer, totalCents } }],
        audit: [{ key, value: { orderId: order.id, event: 'order-routed' } }],
      };
    },
  });
}
