import type { AccountEvent } from './processor.js';

const KINDS = ['signup', 'password-changed', 'payment-received'] as const;

/** The i-th account event; every user wants every channel, so each event yields three notifications. */
export function accountEvent(i: number): { key: string; value: AccountEvent } {
  const user = `user-${i % 53}`;
  return {
    key: user,
    value: {
      id: `event-${i}`,
      user,
      kind: KINDS[i % KINDS.length] as AccountEvent['kind'],
      channels: ['email', 'sms', 'push'],
    },
  };
}
