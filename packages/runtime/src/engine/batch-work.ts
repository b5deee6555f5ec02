import type { EncodedRecord, ExchangeMessage, PartitionStores, RawRecord, RecordError, TableRow } from '@exactly/core';
import type { EngineContext } from './context.js';
import type { RefusedInputs } from './refused-inputs.js';

/** One input record's part of a transaction: its outputs, or its dead letter. */
export interface HandledRecord {
  readonly input: RawRecord;
  /** The encoded outputs; for a dead-lettered record, just its dead letter. */
  readonly outputs: readonly EncodedRecord[];
  /** The rows for table outputs (none for a dead letter). */
  readonly rows: readonly TableRow[];
  /** The messages for exchange outputs (none for a dead letter). */
  readonly messages: readonly ExchangeMessage[];
  /** Set when the record became a dead letter. */
  readonly error?: RecordError;
}

/** What a run of records through the pipeline gave: the transaction's content, and how far it got. */
export interface BatchWork {
  readonly handled: HandledRecord[];
  /** With `onError: 'stop'`, the bad record that ended the run; nothing from it on is handled. */
  readonly stoppedOn: RecordError | undefined;
}

/**
 * Decodes, handles and encodes records in order; a bad record becomes a dead letter or stops the run. A
 * record whose outputs a broker refused before (`refused`) becomes a dead letter without being handled again.
 */
export async function runPipeline(
  ctx: EngineContext,
  records: readonly RawRecord[],
  refused: RefusedInputs,
  /** The records' input partition's stores (a processor with stores has them). */
  stores?: PartitionStores,
): Promise<BatchWork> {
  const handled: HandledRecord[] = [];
  for (const input of records) {
    const reason = refused.reasonFor(input);
    let outcome = reason === undefined ? ctx.pipeline.process(input, stores) : ctx.pipeline.refused(input, reason);
    // Awaited only when a step was asynchronous: a microtask per record is measurable under load.
    if (outcome instanceof Promise) outcome = await outcome;
    if (outcome.ok) {
      handled.push({ input, outputs: outcome.records, rows: outcome.rows, messages: outcome.messages });
      continue;
    }
    if (ctx.pipeline.processor.onError === 'stop') return { handled, stoppedOn: outcome.error };
    ctx.log.warn(
      { kind: outcome.error.kind, reason: outcome.error.reason, ...outcome.error.location },
      'record sent to the dead-letter topic',
    );
    handled.push(deadLettered(input, outcome.deadLetter, outcome.error));
  }
  return { handled, stoppedOn: undefined };
}

const NO_ROWS: readonly TableRow[] = Object.freeze([]);
const NO_MESSAGES: readonly ExchangeMessage[] = Object.freeze([]);

/** A record's part of a transaction when it became a dead letter: only that. */
export function deadLettered(input: RawRecord, deadLetter: EncodedRecord, error: RecordError): HandledRecord {
  return { input, outputs: [deadLetter], rows: NO_ROWS, messages: NO_MESSAGES, error };
}

/** Every output of a batch, in order. */
export function outputsOf(handled: readonly HandledRecord[]): EncodedRecord[] {
  const outputs: EncodedRecord[] = [];
  for (const { outputs: some } of handled) for (const output of some) outputs.push(output);
  return outputs;
}
