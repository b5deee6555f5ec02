import type { ExampleApp, GeneratedRecord } from '@exactly/testkit';
import { type Order, ordersIn } from './processor.js';

/** The i-th order: its id is also the message's id. One in 500 has a negative total (a dead letter). */
export function order(i: number): GeneratedRecord<string, Order> {
  const total = i % 500 === 499 ? -1 : (i * 37) % 250;
  return { key: `order-${i}`, value: { id: `order-${i}`, customer: `customer-${i % 17}`, total } };
}

export default {
  name: 'rabbitmq-orders',
  summary:
    'orders published to a RabbitMQ queue land on a Kafka topic once each, with a notification for each on a RabbitMQ exchange',
  processor: (suffix) => ordersIn(suffix),
  record: order,
} satisfies ExampleApp;
