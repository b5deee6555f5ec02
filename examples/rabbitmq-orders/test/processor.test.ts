import { TestDriver } from '@exactly/testkit';
import { beforeEach, describe, expect, it } from 'vitest';
import { ordersIn } from '../src/processor.js';

describe('rabbitmq-orders (TestDriver, no broker)', () => {
  const driver = new TestDriver(ordersIn());
  beforeEach(() => driver.reset());

  it('an order lands on the topic and its notification on the exchange, with a stable message id', async () => {
    await driver.publish({ id: 'o1', customer: 'ann', total: 25 }, { messageId: 'm-1' });
    expect(driver.output('orders').map((r) => [r.key, r.value, r.headers['message-id']])).toEqual([
      ['o1', { id: 'o1', customer: 'ann', total: 25 }, 'm-1'],
    ]);
    expect(driver.messages('notify')).toEqual([
      {
        exchange: 'notifications',
        routingKey: 'order.created',
        value: { orderId: 'o1', customer: 'ann' },
        messageId: 'orders-in/orders/m-1/notify/0',
        headers: {},
      },
    ]);
  });

  it('a message delivered again with the same id is handled once', async () => {
    await driver.publish({ id: 'o1', customer: 'ann', total: 25 }, { messageId: 'm-1' });
    await driver.publish({ id: 'o1', customer: 'ann', total: 25 }, { messageId: 'm-1', redelivered: true });
    expect(driver.output('orders')).toHaveLength(1);
    expect(driver.messages('notify')).toHaveLength(1);
  });

  it('an order without a customer or below zero is a dead letter with the reason, and nothing else', async () => {
    await driver.publish({ id: 'o2', customer: '', total: 1 }, { messageId: 'm-2' });
    await driver.publish({ id: 'o3', customer: 'bo', total: -5 }, { messageId: 'm-3' });
    expect(driver.deadLetters().map((d) => [d.headers['exactly.source.message-id'], d.reason])).toEqual([
      ['m-2', 'handler threw: an order needs a customer'],
      ['m-3', 'handler threw: order o3: the total must be at least 0, got -5'],
    ]);
    expect(driver.output('orders')).toEqual([]);
    expect(driver.messages('notify')).toEqual([]);
  });
});
