import type { EncodedRecord, RawRecord, RecordError } from '@exactly/core';
import type { EngineContext } from './context.js';

/** What a run of records through the pipeline gave: outputs to send and how far it got. */
export interface BatchWork {
  readonly outputs: EncodedRecord[];
  /** The records handled (a dead-lettered record counts: its dead letter is its output). */
  readonly processed: RawRecord[];
  readonly deadLetters: RecordError[];
  /** With `onError: 'stop'`, the bad record that ended the run; nothing from it on is processed. */
  readonly stoppedOn: RecordError | undefined;
}

/** Decodes, handles and encodes records in order; a bad record becomes a dead letter or stops the run. */
export async function runPipeline(ctx: EngineContext, records: readonly RawRecord[]): Promise<BatchWork> {
  const work: BatchWork & { stoppedOn: RecordError | undefined } = {
    outputs: [],
    processed: [],
    deadLetters: [],
    stoppedOn: undefined,
  };
  for (const record of records) {
    const outcome = await ctx.pipeline.process(record);
    if (outcome.ok) {
      for (const output of outcome.records) work.outputs.push(output);
    } else if (ctx.pipeline.processor.onError === 'stop') {
      work.stoppedOn = outcome.error;
      break;
    } else {
      ctx.log.warn(
        { kind: outcome.error.kind, reason: outcome.error.reason, ...outcome.error.location },
        'record sent to the dead-letter topic',
      );
      work.deadLetters.push(outcome.error);
      work.outputs.push(outcome.deadLetter);
    }
    work.processed.push(record);
  }
  return work;
}

/** Counts a committed transaction's records in the metrics. */
export function recordCommitted(ctx: EngineContext, work: Omit<BatchWork, 'stoppedOn'>, startedAt: number): void {
  const now = Date.now();
  const m = ctx.metrics;
  m.transactionsCommitted.inc();
  m.commitLatency.observe((performance.now() - startedAt) / 1000);
  m.recordsIn.inc(work.processed.length);
  for (const error of work.deadLetters) m.deadLetters.inc({ kind: error.kind });
  for (const output of work.outputs) m.recordsOut.inc({ topic: output.topic });
  for (const input of work.processed) m.endToEndLatency.observe(Math.max(0, now - input.timestamp) / 1000);
}
