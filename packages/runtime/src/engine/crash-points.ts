/**
 * Fault injection for the chaos harness (`pnpm chaos --postgres`): with EXACTLY_CRASH_AT=<point>:<n>, the process
 * SIGKILLs itself the n-th time it reaches <point>, so that a crash falls exactly inside a window a random kill
 * rarely hits. Unset (always, outside chaos), a crash point costs one comparison.
 * - `prepared`: the database's transaction is prepared (or a batch's exchange messages are confirmed), Kafka's
 *               commit not yet sent.
 * - `decided`:  Kafka's commit is confirmed; COMMIT PREPARED (or a queue batch's acknowledgement) not yet sent.
 */
export type CrashPoint = 'prepared' | 'decided';

const armed = parse(process.env.EXACTLY_CRASH_AT);
let reached = 0;

export function crashPoint(point: CrashPoint): void {
  if (armed?.point !== point) return;
  reached += 1;
  if (reached < armed.nth) return;
  process.stderr.write(`exactly: EXACTLY_CRASH_AT=${point}:${armed.nth} reached; SIGKILL\n`);
  process.kill(process.pid, 'SIGKILL');
}

function parse(spec: string | undefined): { point: CrashPoint; nth: number } | undefined {
  if (!spec) return undefined;
  const [point, nth] = spec.split(':');
  if ((point !== 'prepared' && point !== 'decided') || !Number.isInteger(Number(nth)) || Number(nth) < 1) {
    throw new Error(`EXACTLY_CRASH_AT must be prepared:<n> or decided:<n> (n ≥ 1), got '${spec}'`);
  }
  return { point, nth: Number(nth) };
}
