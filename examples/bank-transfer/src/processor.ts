import { defineProcessor, json, string, topic } from '@exactly/core';

export interface TransferRequest {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  /** Cents: money is never a float. */
  readonly amountCents: number;
}
export interface Movement {
  readonly transferId: string;
  readonly account: string;
  readonly amountCents: number;
}

/** Why a transfer request is refused; the message becomes the dead letter's `exactly.error.message`. */
export function invalidReason(request: TransferRequest): string | undefined {
  if (typeof request.id !== 'string' || request.id === '') return 'missing transfer id';
  if (typeof request.from !== 'string' || typeof request.to !== 'string') return 'missing account';
  if (request.from === request.to) return `same account on both sides (${request.from})`;
  if (!Number.isInteger(request.amountCents)) return `amount must be whole cents, got ${request.amountCents}`;
  if (request.amountCents <= 0) return `amount must be positive, got ${request.amountCents}`;
  return undefined;
}

/**
 * The distributed-transaction classic, without two-phase commit: a transfer request becomes a debit on one
 * topic and a credit on another, committed with the request's offset in one Kafka transaction. Both are
 * visible, once, or neither is. A request that is malformed or invalid goes to `bank-transfer.dlq` with the
 * reason, in the same transaction, and the stream goes on. Debits and credits are keyed by account, so each
 * account's movements stay in order.
 */
export function bankTransfer(suffix = '') {
  return defineProcessor({
    id: `bank-transfer${suffix}`,
    input: topic(`transfer-requests${suffix}`, { key: string(), value: json<TransferRequest>() }),
    outputs: {
      debits: topic(`debits${suffix}`, { key: string(), value: json<Movement>() }),
      credits: topic(`credits${suffix}`, { key: string(), value: json<Movement>() }),
    },
    handle({ value: request }) {
      const reason = invalidReason(request);
      if (reason) throw new Error(`invalid transfer: ${reason}`);
      const movement = (account: string, amountCents: number) => ({
        key: account,
        value: { transferId: request.id, account, amountCents },
      });
      return {
        debits: [movement(request.from, -request.amountCents)],
        credits: [movement(request.to, request.amountCents)],
      };
    },
  });
}
