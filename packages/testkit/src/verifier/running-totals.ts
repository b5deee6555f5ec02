import { type ReadRecord, readTopic } from '../kafka/read-topic.js';

export interface RunningTotalsOptions {
  readonly brokers: string;
  /** Records keyed by an account, valued `{ id, amount }`. */
  readonly input: string;
  /** Records keyed by the same account, valued `{ id, total }`: the account's total after input `id`. */
  readonly output: string;
  readonly timeoutMs?: number;
}

export interface RunningTotalsVerdict {
  readonly ok: boolean;
  readonly keys: number;
  readonly inputs: number;
  readonly outputs: number;
  /** Outputs whose total is not the sum of their key's amounts up to their input (state lost or doubled). */
  readonly wrongTotals: number;
  /** Inputs with more than one output. */
  readonly duplicated: number;
  /** Inputs without an output. */
  readonly missing: number;
  /** Outputs of a key out of its inputs' order. */
  readonly orderViolations: number;
  readonly examples: readonly string[];
}

/**
 * The state check of a stateful run: for each key, the totals read (read_committed) must be exactly the
 * successive sums of that key's amounts in input order: no step repeated, none missing, none out of order, and
 * each the right sum (a store that lost a change, or applied one twice, shows here). A key's inputs must all be
 * in one input partition (keyed records are), and its outputs in one output partition.
 */
export async function verifyRunningTotals(options: RunningTotalsOptions): Promise<RunningTotalsVerdict> {
  const read = (topic: string) => readTopic(options.brokers, topic, { timeoutMs: options.timeoutMs ?? 120_000 });
  const [inputs, outputs] = await Promise.all([read(options.input), read(options.output)]);
  const expected = new Map<string, Array<{ id: number; total: number }>>();
  for (const record of byOffset(inputs)) {
    const key = record.key?.toString() ?? '';
    const { id, amount } = JSON.parse(record.value?.toString() ?? '{}') as { id: number; amount: number };
    const list = expected.get(key) ?? [];
    list.push({ id, total: (list[list.length - 1]?.total ?? 0) + amount });
    expected.set(key, list);
  }
  const actual = new Map<string, Array<{ id: number; total: number }>>();
  for (const record of byOffset(outputs)) {
    const key = record.key?.toString() ?? '';
    const list = actual.get(key) ?? [];
    list.push(JSON.parse(record.value?.toString() ?? '{}') as { id: number; total: number });
    actual.set(key, list);
  }
  const examples: string[] = [];
  const note = (line: string) => examples.length < 10 && examples.push(line);
  let wrongTotals = 0;
  let duplicated = 0;
  let missing = 0;
  let orderViolations = 0;
  for (const [key, steps] of expected) {
    const totalOf = new Map(steps.map((s, index) => [s.id, { total: s.total, index }]));
    const seen = new Set<number>();
    let lastIndex = -1;
    for (const output of actual.get(key) ?? []) {
      const step = totalOf.get(output.id);
      if (!step) {
        wrongTotals += 1;
        note(`${key}: an output for input ${output.id}, which is not one of its inputs`);
        continue;
      }
      if (seen.has(output.id)) {
        duplicated += 1;
        note(`${key}: input ${output.id} has more than one output`);
        continue;
      }
      seen.add(output.id);
      if (output.total !== step.total) {
        wrongTotals += 1;
        note(`${key}: after input ${output.id} the total is ${output.total}, expected ${step.total}`);
      }
      if (step.index < lastIndex) {
        orderViolations += 1;
        note(`${key}: input ${output.id} comes after a later input`);
      }
      lastIndex = Math.max(lastIndex, step.index);
    }
    for (const step of steps) {
      if (!seen.has(step.id)) {
        missing += 1;
        note(`${key}: input ${step.id} has no output`);
      }
    }
  }
  for (const key of actual.keys()) {
    if (!expected.has(key)) {
      wrongTotals += actual.get(key)?.length ?? 0;
      note(`${key}: outputs for a key with no input`);
    }
  }
  return {
    ok: wrongTotals + duplicated + missing + orderViolations === 0,
    keys: expected.size,
    inputs: inputs.length,
    outputs: outputs.length,
    wrongTotals,
    duplicated,
    missing,
    orderViolations,
    examples,
  };
}

/** Records in partition and offset order (a key lives in one partition, so this is each key's order). */
function byOffset(records: readonly ReadRecord[]): ReadRecord[] {
  return [...records].sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}
