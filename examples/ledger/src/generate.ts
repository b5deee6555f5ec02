import type { Transfer } from './processor.js';

/**
 * The i-th transfer, keyed by its id, between two of 11 accounts (never the same one). One in 50 is
 * invalid in each of three ways (a negative amount, the same account on both sides, fractional cents), so a run
 * shows dead letters of each kind.
 */
export function transfer(i: number): { key: string; value: Transfer } {
  const id = `transfer-${i}`;
  const from = `account-${i % 11}`;
  let to = `account-${(i + 1 + (i % 10)) % 11}`; // 1..10 accounts further on: never `from`
  let cents = 100 + ((i * 37) % 10_000);
  if (i % 50 === 17) cents = -cents;
  if (i % 50 === 33) to = from;
  if (i % 50 === 41) cents += 0.5;
  return { key: id, value: { id, from, to, cents } };
}
