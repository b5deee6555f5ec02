import type { RawRecord } from '@exactly/core';

/**
 * Input records whose outputs a broker refused (too large for the topic, or a record the topic does not
 * accept), with the broker's reason. The batch is redone after the refusal, and these records then become
 * dead letters instead of failing every transaction that holds them. Forgotten once a transaction commits
 * (their dead letters with it).
 */
export class RefusedInputs {
  private readonly reasons = new Map<string, string>();
  /**
   * Set when a refused send held several inputs' outputs: the redo sends each input's outputs on its own, so
   * that the next refusal names the input.
   */
  isolating = false;

  add(input: RawRecord, reason: string): void {
    this.reasons.set(keyOf(input), reason);
  }

  reasonFor(input: RawRecord): string | undefined {
    return this.reasons.size === 0 ? undefined : this.reasons.get(keyOf(input));
  }

  clear(): void {
    this.reasons.clear();
    this.isolating = false;
  }
}

const keyOf = (input: RawRecord) => `${input.topic}:${input.partition}:${input.offset}`;
