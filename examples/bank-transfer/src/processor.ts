import { defineProcessor, json, store, string, topic } from '@exactly/core';

/** Money coming in or going out of the bank: its balance is not tracked, and never refuses anything. */
export const EXTERNAL = 'external';

export interface TransferRequest {
  readonly id: string;
  /** Whose accounts these are: requests are keyed by customer, so all of a customer's accounts share a store. */
  readonly customer: string;
  /** An account of the customer (`checking`, `savings`, ...) or `external` (a deposit). */
  readonly from: string;
  /** An account of the customer, or `external` (a withdrawal). */
  readonly to: string;
  /** Cents: money is never a float. */
  readonly amountCents: number;
}
export interface Movement {
  readonly transferId: string;
  readonly customer: string;
  readonly account: string;
  readonly amountCents: number;
  /** The account's balance after this movement (absent for external money). */
  readonly balanceCents?: number;
}

/** Why a transfer request is refused before money is looked at; the message becomes the dead letter's reason. */
export function invalidReason(request: TransferRequest): string | undefined {
  if (typeof request.id !== 'string' || request.id === '') return 'missing transfer id';
  if (typeof request.customer !== 'string' || request.customer === '') return 'missing customer';
  if (typeof request.from !== 'string' || typeof request.to !== 'string') return 'missing account';
  if (request.from === request.to) return `same account on both sides (${request.from})`;
  if (!Number.isInteger(request.amountCents)) return `amount must be whole cents, got ${request.amountCents}`;
  if (request.amountCents <= 0) return `amount must be positive, got ${request.amountCents}`;
  return undefined;
}

/**
 * A transfer between a customer's accounts (or from or to outside the bank) becomes a debit and a credit,
 * committed with the request's offset and the new balances in one Kafka transaction. Balances live in a store,
 * scoped like the requests: keyed by customer, so a customer's accounts are all in one input partition and one
 * store. A request that would overdraw its source account is refused: it goes to `bank-transfer.dlq` with the
 * reason, and the balances it touched stay as they were. So do invalid and malformed requests.
 */
export function bankTransfer(suffix = '') {
  return defineProcessor({
    id: `bank-transfer${suffix}`,
    input: topic(`transfer-requests${suffix}`, { key: string(), value: json<TransferRequest>() }),
    stores: { balances: store({ key: string(), value: json<number>() }) },
    outputs: {
      debits: topic(`debits${suffix}`, { key: string(), value: json<Movement>() }),
      credits: topic(`credits${suffix}`, { key: string(), value: json<Movement>() }),
    },
    handle({ value: request }, { stores }) {
      const reason = invalidReason(request);
      if (reason) throw new Error(`invalid transfer: ${reason}`);
      const { customer, amountCents } = request;
      /** Moves `delta` on `account`; refuses to take it below zero. Returns the new balance. */
      const move = (account: string, delta: number): number | undefined => {
        if (account === EXTERNAL) return undefined;
        const key = `${customer}/${account}`;
        const balance = (stores.balances.get(key) ?? 0) + delta;
        if (balance < 0) {
          throw new Error(`insufficient funds: ${key} has ${balance - delta} cents, the transfer needs ${-delta}`);
        }
        stores.balances.put(key, balance);
        return balance;
      };
      const movement = (account: string, delta: number, balanceCents: number | undefined) => ({
        key: `${customer}/${account}`,
        value: { transferId: request.id, customer, account, amountCents: delta, balanceCents },
      });
      const debited = move(request.from, -amountCents);
      const credited = move(request.to, amountCents);
      return {
        debits: [movement(request.from, -amountCents, debited)],
        credits: [movement(request.to, amountCents, credited)],
      };
    },
  });
}
