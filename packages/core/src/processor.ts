import { ExactlyConfigError } from './errors.js';
import {
  type AnyExchange,
  checkExchangeName,
  type ExchangeEntry,
  type ExchangeValueOf,
  isExchange,
} from './exchange.js';
import { type AnyQueue, checkQueueName, isQueue, type QueueRecord, type QueueValueOf } from './queue.js';
import type { InputRecord, OutputRecord } from './records.js';
import type { HandlerContext, StoreMap } from './store.js';
import { changelogTopic } from './store.js';
import { type AnyTable, checkTableName, isTable, type RowOf, type TableEntry } from './table.js';
import { type AnyTopic, checkTopicName, type KeyOf, type ValueOf } from './topic.js';

/** What a processor reads: a Kafka topic, or a queue (`queue()` of a source's package). */
export type AnyInput = AnyTopic | AnyQueue;

/**
 * Outputs by the name the handler uses for them: topics, tables (`table()` of `@exactly/postgres`) and
 * exchanges (`exchange()` of `@exactly/rabbitmq`).
 */
export type OutputMap = Readonly<Record<string, AnyTopic | AnyTable | AnyExchange>>;
/** The outputs of a processor. (The name from before outputs could be tables.) */
export type TopicMap = OutputMap;

/** What a handler returns for one output: a record for a topic, `{ value: row }` for a table, a message for an exchange. */
export type OutputEntry<T> = T extends AnyTable
  ? TableEntry<RowOf<T>>
  : T extends AnyExchange
    ? ExchangeEntry<ExchangeValueOf<T>>
    : OutputRecord<KeyOf<T>, ValueOf<T>>;

/** The record a handler receives from input `I`: a topic's record, or a queue's message. */
export type RecordOf<I> = I extends AnyQueue ? QueueRecord<QueueValueOf<I>> : InputRecord<KeyOf<I>, ValueOf<I>>;

/** What a handler returns: for each output name, the records to write there. Omitted names write nothing. */
export type HandlerOutputs<O extends TopicMap> = {
  readonly [Name in keyof O]?: ReadonlyArray<OutputEntry<O[Name]>>;
};

// biome-ignore lint/suspicious/noConfusingVoidType: `void` lets a handler that returns nothing (no `return`) type-check.
export type HandlerResult<O extends TopicMap> = HandlerOutputs<O> | undefined | void;

/** A processor without stores: what `stores` is when a definition names none. */
// biome-ignore lint/complexity/noBannedTypes: the empty map of stores, for processors that declare none.
export type NoStores = {};

/**
 * A handler for input `I`, outputs `O` and stores `S`. A conditional type on purpose: TypeScript then types the
 * returned object with `O` already inferred from `outputs`, so literal types in output values (`side: 'left'`)
 * are kept rather than widened to `string` and refused.
 */
export type Handler<I extends AnyInput, O extends TopicMap, S extends StoreMap = NoStores> = O extends unknown
  ? // Written as a method (then picked out of its object): its parameters are then compared both ways, so a
    // processor with typed stores is still a `Processor` where any processor is taken (runners, tools).
    {
      handle(
        record: RecordOf<I>,
        context: HandlerContext<NoInfer<S>>,
      ): HandlerResult<NoInfer<O>> | Promise<HandlerResult<NoInfer<O>>>;
    }['handle']
  : never;

/** What to do with a record whose decode, handler or encode fails. */
export type OnError = 'dead-letter' | 'stop';

export interface ProcessorDefinition<I extends AnyInput, O extends TopicMap, S extends StoreMap = NoStores> {
  /** Consumer group id and transactional.id prefix. Letters, digits, '.', '_', '-'. */
  readonly id: string;
  readonly input: I;
  readonly outputs: O;
  /**
   * Key-value stores, scoped to the input partition; the handler gets them as `context.stores`. Their changes
   * commit with the outputs and offsets, or not at all. Optional.
   */
  readonly stores?: S;
  /**
   * Pure: the same record (and state) gives the same outputs. May be async. A record may be handled more than
   * once (after a crash or rebalance); only its committed outputs and state changes are ever visible.
   */
  readonly handle: Handler<I, O, S>;
  /** Dead-letter topic name; defaults to `<id>.dlq`. */
  readonly deadLetter?: string;
  /** `'dead-letter'` (default): bad records go to the dead-letter topic and the pipeline goes on.
   *  `'stop'`: the processor stops, committing nothing past the bad record. */
  readonly onError?: OnError;
}

/** A checked processor definition with its defaults filled in. */
export interface Processor<I extends AnyInput = AnyInput, O extends TopicMap = TopicMap, S extends StoreMap = NoStores>
  extends ProcessorDefinition<I, O, S> {
  readonly deadLetter: string;
  readonly onError: OnError;
  readonly stores: S;
}

const LEGAL_ID = /^[a-zA-Z0-9._-]{1,200}$/;

/**
 * Checks a processor definition and fills in its defaults. Every mistake is an ExactlyConfigError that names
 * the field, thrown here rather than when the first record arrives.
 */
export function defineProcessor<I extends AnyInput, O extends TopicMap, S extends StoreMap = NoStores>(
  definition: ProcessorDefinition<I, O, S>,
): Processor<I, O, S> {
  const { id, input, outputs, handle, onError = 'dead-letter' } = definition;
  const stores = (definition.stores ?? {}) as S;
  if (typeof id !== 'string' || id.length === 0) throw new ExactlyConfigError('id', 'must be a non-empty string');
  if (!LEGAL_ID.test(id)) {
    throw new ExactlyConfigError('id', `'${id}' may hold only letters, digits, '.', '_' and '-' (at most 200)`);
  }
  if (!input || typeof input !== 'object')
    throw new ExactlyConfigError('input', "must be a topic, e.g. topic('orders', {...}), or a queue");
  if (isQueue(input)) checkQueueInput(input, definition);
  else checkTopicName(input.name, 'input');
  if (!outputs || typeof outputs !== 'object' || Object.keys(outputs).length === 0) {
    throw new ExactlyConfigError('outputs', 'must name at least one output (a topic or a table)');
  }
  const seen = new Map<string, string>(isQueue(input) ? [] : [[input.name, 'input']]);
  const tables = new Map<string, string>();
  for (const [name, output] of Object.entries(outputs)) {
    const field = `outputs.${name}`;
    if (!output || typeof output !== 'object') throw new ExactlyConfigError(field, 'must be a topic or a table');
    if (isTable(output)) {
      checkTableName(output.name, field);
      const used = tables.get(output.name);
      if (used) throw new ExactlyConfigError(field, `table '${output.name}' is already used by ${used}`);
      tables.set(output.name, field);
      continue;
    }
    if (isExchange(output)) {
      checkExchangeName(output.name, field);
      continue;
    }
    checkTopicName(output.name, field);
    const clash = seen.get(output.name);
    if (clash === 'input')
      throw new ExactlyConfigError(
        field,
        `'${output.name}' is the input topic; a processor may not write to its own input`,
      );
    if (clash) throw new ExactlyConfigError(field, `topic '${output.name}' is already used by ${clash}`);
    seen.set(output.name, field);
  }
  const deadLetter = definition.deadLetter ?? `${id}.dlq`;
  checkTopicName(deadLetter, 'deadLetter');
  const clash = seen.get(deadLetter);
  if (clash) throw new ExactlyConfigError('deadLetter', `topic '${deadLetter}' is already used by ${clash}`);
  for (const [name, declared] of Object.entries(stores)) {
    const field = `stores.${name}`;
    if (!declared || typeof declared !== 'object' || declared.kind !== 'store') {
      throw new ExactlyConfigError(field, 'must be a store, e.g. store({ key: string(), value: json<T>() })');
    }
    checkTopicName(changelogTopic(id, name), `${field} (its changelog topic name)`);
    const changelog = changelogTopic(id, name);
    const used = seen.get(changelog);
    if (used) throw new ExactlyConfigError(field, `its changelog topic '${changelog}' is already used by ${used}`);
    seen.set(changelog, field);
  }
  if (typeof handle !== 'function') throw new ExactlyConfigError('handle', 'must be a function (record) => outputs');
  if (onError !== 'dead-letter' && onError !== 'stop') {
    throw new ExactlyConfigError('onError', `must be 'dead-letter' or 'stop', got '${String(onError)}'`);
  }
  return Object.freeze({ ...definition, id, input, outputs, stores, handle, deadLetter, onError });
}

/** A queue input takes what its source can commit with: topics and exchanges (no stores or tables, yet). */
function checkQueueInput(input: AnyQueue, definition: { stores?: unknown; outputs: OutputMap }): void {
  checkQueueName(input.name, 'input');
  if (definition.stores && Object.keys(definition.stores).length > 0) {
    throw new ExactlyConfigError('stores', 'a processor with a queue input cannot have stores (not supported yet)');
  }
  const table = Object.entries(definition.outputs ?? {}).find(([, output]) => isTable(output));
  if (table) {
    throw new ExactlyConfigError(
      `outputs.${table[0]}`,
      'a processor with a queue input cannot write to tables (not supported yet): write to a topic, and a second processor from it to the table',
    );
  }
}
