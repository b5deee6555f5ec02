import { TestDriver } from '@exactly/testkit';
import { beforeEach, describe, expect, it } from 'vitest';
import { notifications } from '../src/processor.js';

describe('notifications (TestDriver, no broker)', () => {
  const driver = new TestDriver(notifications());
  beforeEach(() => driver.reset());

  it('sends one notification on each channel the user wants', async () => {
    await driver.send('ann', { id: 'e1', user: 'ann', kind: 'signup', channels: ['email', 'push'] });
    expect(driver.output('email')).toMatchObject([{ key: 'ann', value: { eventId: 'e1', text: 'Welcome aboard!' } }]);
    expect(driver.output('push')).toHaveLength(1);
    expect(driver.output('sms')).toEqual([]);
  });

  it('sends nothing for a user who wants no channel, and that is not an error', async () => {
    await driver.send('bo', { id: 'e2', user: 'bo', kind: 'payment-received', channels: [] });
    expect([...driver.output('email'), ...driver.output('sms'), ...driver.output('push')]).toEqual([]);
    expect(driver.deadLetters()).toEqual([]);
  });
});
