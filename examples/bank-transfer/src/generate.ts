import { EXTERNAL, type TransferRequest } from './processor.js';

const ACCOUNTS = ['checking', 'savings'];

/**
 * The i-th transfer request, for one of 31 customers (keyed by customer). Most move money between the
 * customer's accounts or in and out of the bank; deposits keep accounts funded, and some transfers are larger
 * than the balance on purpose (refused as overdrafts). One in 50 is invalid (a negative amount, the same account
 * on both sides), so the demo shows dead letters of both kinds.
 */
export function transferRequest(i: number): { key: string; value: TransferRequest } {
  const customer = `customer-${i % 31}`;
  const round = Math.floor(i / 31);
  let from: string;
  let to: string;
  if (round % 3 === 0) {
    from = EXTERNAL; // a deposit
    to = ACCOUNTS[round % 2] as string;
  } else {
    from = ACCOUNTS[(round + i) % 2] as string;
    to = round % 5 === 4 ? EXTERNAL : (ACCOUNTS[(round + i + 1) % 2] as string);
  }
  // Deposits are larger than what leaves, so most transfers are covered; some are not.
  let amountCents = from === EXTERNAL ? 5000 + ((i * 37) % 10_000) : 100 + ((i * 37) % 4000);
  if (i % 50 === 17) amountCents = -amountCents;
  if (i % 50 === 33) to = from;
  return { key: customer, value: { id: `transfer-${i}`, customer, from, to, amountCents } };
}
