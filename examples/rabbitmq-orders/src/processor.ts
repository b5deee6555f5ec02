import { defineProcessor, json, string, topic } from '@exactly/core';
import { exchange, queue } from '@exactly/rabbitmq';

export interface Order {
  readonly id: string;
  readonly customer: string;
  readonly total: number;
}

export interface OrderCreated {
  readonly orderId: string;
  readonly customer: string;
}

/**
 * Orders published to the RabbitMQ queue `orders<suffix>` (by any client: `publish.py` uses pika) land on the
 * Kafka topic `orders<suffix>` once each, and a notification for each goes to the exchange
 * `notifications<suffix>` with routing key `order.created`. An order without a customer or with a total below zero
 * goes to the dead-letter topic with the reason, as does a message without a message_id.
 */
export function ordersIn(suffix = '') {
  return defineProcessor({
    id: `orders-in${suffix}`,
    input: queue(`orders${suffix}`, { value: json<Order>() }),
    outputs: {
      orders: topic(`orders${suffix}`, { key: string(), value: json<Order>() }),
      notify: exchange(`notifications${suffix}`, { value: json<OrderCreated>(), routingKey: 'order.created' }),
    },
    handle(record) {
      const order = record.value;
      if (typeof order.customer !== 'string' || order.customer === '') throw new Error('an order needs a customer');
      if (!(order.total >= 0)) throw new Error(`order ${order.id}: the total must be at least 0, got ${order.total}`);
      return {
        orders: [{ key: order.id, value: order, headers: { 'message-id': record.messageId } }],
        notify: [{ value: { orderId: order.id, customer: order.customer } }],
      };
    },
  });
}
