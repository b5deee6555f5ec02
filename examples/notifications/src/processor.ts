import { defineProcessor, json, string, topic } from '@exactly/core';

export interface AccountEvent {
  readonly id: string;
  readonly user: string;
  readonly kind: 'signup' | 'password-changed' | 'payment-received';
  /** Channels the user wants for this event. */
  readonly channels: ReadonlyArray<'email' | 'sms' | 'push'>;
}
export interface Notification {
  readonly eventId: string;
  readonly user: string;
  readonly text: string;
}

const TEXT: Record<AccountEvent['kind'], string> = {
  signup: 'Welcome aboard!',
  'password-changed': 'Your password was changed. Was it you?',
  'payment-received': 'We received your payment, thank you.',
};

/**
 * Asynchronous fan-out: whoever wrote the event does not wait for any notification. Each wanted channel gets
 * exactly one notification, all written with the event's offset in one transaction, so a crash never sends
 * a second e-mail and never forgets the SMS. (The senders that read these topics must read read_committed,
 * and must make the actual sending idempotent by eventId: exactly once stops at the topic.)
 */
export function notifications(suffix = '') {
  return defineProcessor({
    id: `notifications${suffix}`,
    input: topic(`account-events${suffix}`, { key: string(), value: json<AccountEvent>() }),
    outputs: {
      email: topic(`notify-email${suffix}`, { key: string(), value: json<Notification>() }),
      sms: topic(`notify-sms${suffix}`, { key: string(), value: json<Notification>() }),
      push: topic(`notify-push${suffix}`, { key: string(), value: json<Notification>() }),
    },
    handle({ value: event }) {
      const note = [{ key: event.user, value: { eventId: event.id, user: event.user, text: TEXT[event.kind] } }];
      const wants = new Set(event.channels);
      return {
        email: wants.has('email') ? note : [],
        sms: wants.has('sms') ? note : [],
        push: wants.has('push') ? note : [],
      };
    },
  });
}
