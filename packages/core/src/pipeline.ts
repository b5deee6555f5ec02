import { DecodeError, EncodeError, HandlerError, messageOf, type RecordError, type RecordLocation } from './errors.js';
import { type AnyExchange, type ExchangeEntry, type ExchangeMessage, isExchange } from './exchange.js';
import { Headers, queueSourceHeaders, sourceHeaders } from './headers.js';
import { type BoundStore, type CommittedState, PartitionStores } from './partition-stores.js';
import type { Processor } from './processor.js';
import { isQueue } from './queue.js';
import { recordBatchBytes } from './record-size.js';
import type { EncodedRecord, InputHeaders, OutputRecord, RawRecord } from './records.js';
import type { SchemaRegistryClient } from './registry.js';
import { type BoundSerde, bindSerde } from './serde.js';
import { string } from './serdes/string.js';
import { changelogTopic, type StoreMap } from './store.js';
import { type AnyTable, isTable, type TableRow } from './table.js';
import type { AnyTopic } from './topic.js';

export interface PipelineOptions {
  /** Needed by `avro()` serdes; the pipeline never creates one itself. */
  readonly registry?: SchemaRegistryClient | undefined;
  /** Add `exactly.source.topic|partition|offset` headers to every output (for verification). Default false. */
  readonly provenance?: boolean | undefined;
  /**
   * The most bytes a record may take on each topic (its `max.message.bytes`). An output over its topic's limit
   * is an encode error, so its input goes to the dead-letter topic instead of the broker refusing the whole
   * transaction. Topics not named here are not checked.
   */
  readonly maxRecordBytes?: Readonly<Record<string, number>> | undefined;
}

/** The result of one input record: the records (and table rows, exchange messages) to write in its transaction. */
export type RecordOutcome =
  | {
      readonly ok: true;
      readonly records: readonly EncodedRecord[];
      readonly rows: readonly TableRow[];
      readonly messages: readonly ExchangeMessage[];
    }
  | { readonly ok: false; readonly error: RecordError; readonly deadLetter: EncodedRecord };

interface BoundTopic {
  readonly name: string;
  readonly key: BoundSerde<unknown>;
  readonly value: BoundSerde<unknown>;
  /** Its records may be tombstones (see Topic.tombstones). */
  readonly tombstones: boolean;
}

interface BoundExchange {
  readonly kind: 'exchange';
  readonly exchange: AnyExchange;
  readonly value: BoundSerde<unknown>;
}

type BoundOutput = BoundTopic | AnyTable | BoundExchange;

function isBoundExchange(output: BoundOutput): output is BoundExchange {
  return 'exchange' in output;
}

function isBoundTopic(output: BoundOutput): output is BoundTopic {
  return !isTable(output) && !isBoundExchange(output);
}

/**
 * decode -> handle -> encode -> dead letter, for one record at a time. The runtime and the TestDriver both
 * use this one class, so what a unit test sees is what production does. No Kafka I/O here.
 */
export class RecordPipeline {
  private constructor(
    readonly processor: Processor,
    private readonly input: BoundTopic,
    private readonly outputs: ReadonlyMap<string, BoundOutput>,
    private readonly provenance: boolean,
    private readonly maxRecordBytes: Readonly<Record<string, number>>,
    private readonly stores: readonly BoundStore[],
  ) {}

  /** Binds every serde (Avro registers its schemas here, once). */
  static async create(processor: Processor, options: PipelineOptions = {}): Promise<RecordPipeline> {
    const bind = async (topic: AnyTopic): Promise<BoundTopic> => ({
      name: topic.name,
      key: await bindSerde(topic.key, { topic: topic.name, role: 'key', registry: options.registry }),
      value: await bindSerde(topic.value, { topic: topic.name, role: 'value', registry: options.registry }),
      tombstones: topic.tombstones === true,
    });
    const outputs = new Map<string, BoundOutput>();
    for (const [name, output] of Object.entries(processor.outputs)) {
      if (isTable(output)) outputs.set(name, output);
      else if (isExchange(output)) {
        const role = { topic: output.name, role: 'value', registry: options.registry } as const;
        outputs.set(name, { kind: 'exchange', exchange: output, value: await bindSerde(output.value, role) });
      } else outputs.set(name, await bind(output));
    }
    const { input } = processor;
    // A queue's message has no key; its id reaches the handler as `messageId`, and a dead letter's key.
    const inputTopic = isQueue(input)
      ? { name: input.name, key: string(), value: input.value, tombstones: false }
      : input;
    const stores: BoundStore[] = [];
    for (const [name, declared] of Object.entries((processor.stores ?? {}) as StoreMap)) {
      const changelog = changelogTopic(processor.id, name);
      stores.push({
        name,
        changelog,
        key: await bindSerde(declared.key, { topic: changelog, role: 'key', registry: options.registry }),
        value: await bindSerde(declared.value, { topic: changelog, role: 'value', registry: options.registry }),
      });
    }
    return new RecordPipeline(
      processor,
      await bind(inputTopic),
      outputs,
      options.provenance ?? false,
      options.maxRecordBytes ?? {},
      stores,
    );
  }

  /** The same pipeline (serdes already bound), checking output sizes against these limits. */
  withMaxRecordBytes(limits: Readonly<Record<string, number>>): RecordPipeline {
    return new RecordPipeline(this.processor, this.input, this.outputs, this.provenance, limits, this.stores);
  }

  /**
   * Stores for input partition `partition` (its state is restored or seeded into them); `committedFor` says
   * where each keeps its committed state (in memory by default).
   */
  createStores(partition: number, committedFor?: (store: BoundStore) => CommittedState): PartitionStores {
    return new PartitionStores(this.stores, partition, committedFor);
  }

  /** The processor's changelog topics, one per store. */
  get changelogTopics(): string[] {
    return this.stores.map((s) => s.changelog);
  }

  /** Each store's name and changelog topic. */
  get storeChangelogs(): Array<[name: string, changelog: string]> {
    return this.stores.map((s) => [s.name, s.changelog]);
  }

  /** Every topic this pipeline may write to, dead-letter topic included. */
  get outputTopics(): string[] {
    const topics = [...this.outputs.values()].filter(isBoundTopic);
    return [...topics.map((t) => t.name), this.processor.deadLetter];
  }

  /**
   * One record through decode, handle, encode. `stores` are its input partition's stores (required when the
   * processor has any): the record's changes to them are kept when it succeeds, undone when it becomes a dead
   * letter. Synchronous while the serdes and the handler are (JSON, strings, bytes and a plain handler): a
   * promise per record, and per step, was a measured share of the CPU; a promise comes back only from a step
   * that gave one (an Avro serde, an async handler).
   */
  process(raw: RawRecord, stores?: PartitionStores): RecordOutcome | Promise<RecordOutcome> {
    if (this.stores.length > 0 && !stores) {
      throw new Error(`processor '${this.processor.id}' has stores: process() needs the partition's stores`);
    }
    const outcome = this.decodeKey(raw, stores);
    return outcome instanceof Promise ? outcome.then((o) => settle(o, stores)) : settle(outcome, stores);
  }

  /**
   * The dead letter of a record whose `step` failed. A method, not a closure per step: the steps run for every
   * record, and only a failure needs it.
   */
  private failed(raw: RawRecord, step: 'key' | 'value' | 'handler' | 'encode', error: unknown): RecordOutcome {
    const location = locationOf(raw);
    const cause = { cause: error };
    if (step === 'key') return this.deadLetter(raw, new DecodeError(location, `key: ${messageOf(error)}`, cause));
    if (step === 'value') return this.deadLetter(raw, new DecodeError(location, `value: ${messageOf(error)}`, cause));
    if (step === 'handler')
      return this.deadLetter(raw, new HandlerError(location, `handler threw: ${messageOf(error)}`, cause));
    return this.deadLetter(
      raw,
      error instanceof EncodeError ? error : new EncodeError(location, messageOf(error), cause),
    );
  }

  private decodeKey(raw: RawRecord, stores: PartitionStores | undefined): Maybe<RecordOutcome> {
    let key: Maybe<unknown>;
    try {
      key = raw.key === null || raw.queue ? null : this.input.key.deserialize(raw.key);
    } catch (error) {
      return this.failed(raw, 'key', error);
    }
    return isThenable(key)
      ? Promise.resolve(key).then(
          (k) => this.decodeValue(raw, stores, k),
          (error: unknown) => this.failed(raw, 'key', error),
        )
      : this.decodeValue(raw, stores, key);
  }

  private decodeValue(raw: RawRecord, stores: PartitionStores | undefined, key: unknown): Maybe<RecordOutcome> {
    let value: Maybe<unknown>;
    try {
      if (raw.value === null) {
        if (!this.input.tombstones)
          throw new TypeError('record has no value (a tombstone; topic(name, { ..., tombstones: true }) accepts them)');
        value = null;
      } else value = this.input.value.deserialize(raw.value);
    } catch (error) {
      return this.failed(raw, 'value', error);
    }
    return isThenable(value)
      ? Promise.resolve(value).then(
          (v) => this.handle(raw, stores, key, v),
          (error: unknown) => this.failed(raw, 'value', error),
        )
      : this.handle(raw, stores, key, value);
  }

  private handle(
    raw: RawRecord,
    stores: PartitionStores | undefined,
    key: unknown,
    value: unknown,
  ): Maybe<RecordOutcome> {
    let result: unknown;
    try {
      const headers = decodeHeaders(raw.headers);
      const record = raw.queue
        ? { queue: raw.topic, ...raw.queue, timestamp: raw.timestamp, value, headers }
        : {
            topic: raw.topic,
            partition: raw.partition,
            offset: raw.offset,
            timestamp: raw.timestamp,
            key,
            value,
            headers,
          };
      result = this.processor.handle(record, { stores: stores?.views ?? NO_STORES });
    } catch (error) {
      return this.failed(raw, 'handler', error);
    }
    return isThenable(result)
      ? Promise.resolve(result).then(
          (r) => this.encodeResult(raw, r),
          (error: unknown) => this.failed(raw, 'handler', error),
        )
      : this.encodeResult(raw, result);
  }

  private encodeResult(raw: RawRecord, result: unknown): Maybe<RecordOutcome> {
    try {
      const encoded = this.encode(result, raw);
      return encoded instanceof Promise
        ? encoded.then(
            (e): RecordOutcome => ({ ok: true, ...e }),
            (error: unknown) => this.failed(raw, 'encode', error),
          )
        : { ok: true, ...encoded };
    } catch (error) {
      return this.failed(raw, 'encode', error);
    }
  }

  private encode(result: unknown, raw: RawRecord): Maybe<Encoded> {
    const rows: TableRow[] = [];
    if (result === undefined || result === null) return { records: [], rows, messages: [] };
    if (typeof result !== 'object' || Array.isArray(result)) {
      throw new TypeError(`handler must return an object keyed by output name, got ${describe(result)}`);
    }
    const provenance = this.provenance ? sourceHeadersOf(raw) : undefined;
    const records: Array<Maybe<EncodedRecord>> = [];
    const messages: Array<Maybe<ExchangeMessage>> = [];
    let pending = false;
    try {
      for (const name in result) {
        if (!Object.hasOwn(result, name)) continue;
        const entries = (result as Record<string, unknown>)[name];
        if (entries === undefined) continue;
        const output = this.outputs.get(name);
        if (!output) {
          throw new TypeError(
            `handler returned unknown output '${name}' (outputs: ${[...this.outputs.keys()].join(', ')})`,
          );
        }
        if (!Array.isArray(entries))
          throw new TypeError(`output '${name}' must be an array of records, got ${describe(entries)}`);
        for (let index = 0; index < entries.length; index++) {
          const entry: unknown = entries[index];
          const where = `${name}[${index}]`;
          if (isTable(output)) {
            rows.push({ output: name, table: output, row: rowOf(entry, where, output) });
          } else if (isBoundExchange(output)) {
            const id = `${this.processor.id}/${sourceIdOf(raw)}/${name}/${index}`;
            const message = exchangeMessageOf(output, entry, where, name, id, raw.timestamp);
            pending ||= message instanceof Promise;
            messages.push(message);
          } else {
            const one = encodeOne(output, entry, where, provenance);
            if (one instanceof Promise) {
              pending = true;
              records.push(one.then((r) => this.checkSize(r, where)));
            } else records.push(this.checkSize(one, where));
          }
        }
      }
    } catch (error) {
      // The record fails as a whole: steps already under way must not end in an unhandled rejection.
      for (const step of [...records, ...messages]) if (step instanceof Promise) step.catch(() => {});
      throw error;
    }
    if (!pending) return { records: records as EncodedRecord[], rows, messages: messages as ExchangeMessage[] };
    return Promise.all([Promise.all(records), Promise.all(messages)]).then(([r, m]) => ({
      records: r,
      rows,
      messages: m,
    }));
  }

  /** Throws when a record is over its topic's limit: the broker would refuse it, and the transaction with it. */
  private checkSize(record: EncodedRecord, where: string): EncodedRecord {
    const limit = this.maxRecordBytes[record.topic];
    if (limit === undefined) return record;
    const size = recordBatchBytes(record);
    if (size > limit) {
      throw new TypeError(
        `${where} for topic ${record.topic} is ${size} bytes; the topic accepts at most ${limit} (max.message.bytes)`,
      );
    }
    return record;
  }

  /**
   * The dead letter of a record whose outputs a broker refused (a limit the size check could not know, or a
   * record the topic does not accept): an encode error with the broker's reason.
   */
  refused(raw: RawRecord, reason: string): RecordOutcome & { ok: false } {
    const location = locationOf(raw);
    return this.deadLetter(raw, new EncodeError(location, reason));
  }

  /** The dead letter of a record that cannot be read at all (a queue's message without an id): a decode error. */
  undecodable(raw: RawRecord, reason: string): RecordOutcome & { ok: false } {
    const location = locationOf(raw);
    return this.deadLetter(raw, new DecodeError(location, reason));
  }

  private deadLetter(raw: RawRecord, error: RecordError): RecordOutcome & { ok: false } {
    const headers: Record<string, Buffer | string> = {};
    for (const [name, value] of Object.entries(raw.headers)) if (value !== undefined) headers[name] = value;
    Object.assign(headers, sourceHeadersOf(raw), {
      [Headers.errorKind]: error.kind,
      [Headers.errorMessage]: error.reason,
    });
    const deadLetter: EncodedRecord = { topic: this.processor.deadLetter, key: raw.key, value: raw.value, headers };
    const limit = this.maxRecordBytes[deadLetter.topic];
    const size = recordBatchBytes(deadLetter);
    if (limit !== undefined && size > limit) {
      // The input itself is too large for the dead-letter topic: write where to find it instead of its bytes.
      const omitted = `key and value (${size} bytes; the dead-letter topic accepts at most ${limit}): read them at the source offset`;
      return {
        ok: false,
        error,
        deadLetter: { ...deadLetter, key: null, value: null, headers: { ...headers, [Headers.omitted]: omitted } },
      };
    }
    return { ok: false, error, deadLetter };
  }
}

function encodeOne(
  output: BoundTopic,
  record: unknown,
  where: string,
  provenance: Record<string, string> | undefined,
): Maybe<EncodedRecord> {
  if (!record || typeof record !== 'object' || !('value' in record)) {
    throw new TypeError(`${where} must be a record { key?, value, headers?, partition? }, got ${describe(record)}`);
  }
  const fields = record as OutputRecord<unknown, unknown>;
  const { key, value } = fields;
  let keyBytes: Maybe<Buffer | null>;
  let valueBytes: Maybe<Buffer | null>;
  try {
    keyBytes = key === undefined || key === null ? null : output.key.serialize(key);
  } catch (error) {
    throw serdeFailed(where, 'key', output, error);
  }
  try {
    valueBytes = value === null && output.tombstones ? null : output.value.serialize(value);
  } catch (error) {
    if (keyBytes instanceof Promise) keyBytes.catch(() => {});
    throw serdeFailed(where, 'value', output, error);
  }
  if (!isThenable(keyBytes) && !isThenable(valueBytes))
    return encodedRecord(output, fields, where, provenance, keyBytes, valueBytes);
  return Promise.all([
    Promise.resolve(keyBytes).catch((error: unknown) => {
      throw serdeFailed(where, 'key', output, error);
    }),
    Promise.resolve(valueBytes).catch((error: unknown) => {
      throw serdeFailed(where, 'value', output, error);
    }),
  ]).then(([k, v]) => encodedRecord(output, fields, where, provenance, k, v));
}

/** An output's key or value its serde refused, named by where it came from. */
function serdeFailed(where: string, part: 'key' | 'value', output: BoundTopic, error: unknown): TypeError {
  return new TypeError(`${where}.${part} for topic ${output.name}: ${messageOf(error)}`);
}

/** The encoded record, once its key and value are bytes (module functions: no closures per output record). */
function encodedRecord(
  output: BoundTopic,
  { headers, partition }: OutputRecord<unknown, unknown>,
  where: string,
  provenance: Record<string, string> | undefined,
  key: Buffer | null,
  value: Buffer | null,
): EncodedRecord {
  if (partition !== undefined && (!Number.isInteger(partition) || partition < 0)) {
    throw new TypeError(`${where}.partition must be a non-negative integer, got ${describe(partition)}`);
  }
  return {
    topic: output.name,
    key,
    value,
    headers: provenance ? { ...headers, ...provenance } : headers === undefined ? NO_HEADERS : { ...headers },
    ...(partition === undefined ? {} : { partition }),
  };
}

/** Keeps a record's store changes when it succeeded, undoes them when it became a dead letter. */
function settle(outcome: RecordOutcome, stores: PartitionStores | undefined): RecordOutcome {
  if (outcome.ok) stores?.keepRecord();
  else stores?.dropRecord();
  return outcome;
}

/** An exchange entry as the message to publish, with its stable id. */
function exchangeMessageOf(
  output: BoundExchange,
  entry: unknown,
  where: string,
  name: string,
  messageId: string,
  timestamp: number,
): Maybe<ExchangeMessage> {
  const exchange = output.exchange;
  if (!entry || typeof entry !== 'object' || !('value' in entry)) {
    throw new TypeError(`${where} must be a message { value, routingKey?, headers? }, got ${describe(entry)}`);
  }
  const { value, routingKey, headers } = entry as ExchangeEntry<unknown>;
  const failed = (error: unknown) => new TypeError(`${where}.value for exchange ${exchange.name}: ${messageOf(error)}`);
  let content: Maybe<Buffer>;
  try {
    content = output.value.serialize(value);
  } catch (error) {
    throw failed(error);
  }
  const finish = (bytes: Buffer): ExchangeMessage => {
    if (routingKey !== undefined && typeof routingKey !== 'string') {
      throw new TypeError(`${where}.routingKey must be a string, got ${describe(routingKey)}`);
    }
    return {
      output: name,
      exchange: exchange.name,
      routingKey: routingKey ?? exchange.routingKey,
      content: bytes,
      headers: { ...headers },
      messageId,
      timestamp,
    };
  };
  if (!isThenable(content)) return finish(content);
  return Promise.resolve(content).then(finish, (error: unknown) => {
    throw failed(error);
  });
}

/** A value now, or later: the pipeline's steps are synchronous unless a serde or the handler is not. */
type Maybe<T> = T | Promise<T>;

/** What `await` would wait for: a promise, or any object with a `then` (the serdes' and handlers' results). */
function isThenable<T>(value: Maybe<T>): value is Promise<T> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** A record's encoded outputs. */
interface Encoded {
  readonly records: readonly EncodedRecord[];
  readonly rows: readonly TableRow[];
  readonly messages: readonly ExchangeMessage[];
}

/** The headers of an output record without any: one shared object (nothing downstream changes a record's). */
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** Where an input record came from, for its errors. */
function locationOf(raw: RawRecord): RecordLocation {
  return { topic: raw.topic, partition: raw.partition, offset: raw.offset };
}

/** Where an input record came from, as headers: a topic's partition and offset, or a queue's message id. */
function sourceHeadersOf(raw: RawRecord): Record<string, string> {
  return raw.queue
    ? queueSourceHeaders(raw.topic, raw.queue.messageId, raw.timestamp)
    : sourceHeaders(raw.topic, raw.partition, raw.offset, raw.timestamp);
}

/** Where an input record sits, as part of the ids of the messages it publishes: the same on every redo. */
function sourceIdOf(raw: RawRecord): string {
  return raw.queue ? `${raw.topic}/${raw.queue.messageId}` : `${raw.topic}/${raw.partition}/${raw.offset}`;
}

const NO_STORES = Object.freeze({});

function decodeHeaders(headers: RawRecord['headers']): InputHeaders {
  const decoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) decoded[name] = typeof value === 'string' ? value : value.toString('utf8');
  }
  return decoded;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

/** A table entry's row: `{ value: { column: value, ... } }`, a plain object whose keys name columns. */
function rowOf(entry: unknown, where: string, table: AnyTable): Readonly<Record<string, unknown>> {
  const row = (entry as { value?: unknown } | null)?.value;
  if (typeof row !== 'object' || row === null || Array.isArray(row)) {
    throw new TypeError(
      `${where} for table ${table.name} must be { value: row } with the row an object, got ${describe(entry)}`,
    );
  }
  if (Object.keys(row).length === 0) throw new TypeError(`${where} for table ${table.name}: the row has no columns`);
  return row as Readonly<Record<string, unknown>>;
}
