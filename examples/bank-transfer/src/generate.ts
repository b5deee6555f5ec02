import type { TransferRequest } from './processor.js';

/**
 * The i-th transfer request. One in 50 is invalid on purpose (negative amount, same account on both sides),
 * so the demo shows dead letters too.
 */
export function transferRequest(i: number): { key: string; value: TransferRequest } {
  const from = `acct-${i % 31}`;
  let to = `acct-${(i * 7 + 3) % 31}`;
  if (to === from) to = `acct-${(i + 1) % 31}`;
  let amountCents = 100 + ((i * 37) % 10_000);
  if (i % 50 === 17) amountCents = -amountCents;
  if (i % 50 === 33) to = from;
  return { key: `transfer-${i}`, value: { id: `transfer-${i}`, from, to, amountCents } };
}
