import {
  type AnyExchange,
  type AnyInput,
  type AnyTable,
  type AnyTopic,
  type BoundSerde,
  bindSerde,
  DEFAULT_MAX_MESSAGE_BYTES,
  type EncodedRecord,
  type ExchangeMessage,
  type ExchangeValueOf,
  isExchange,
  isQueue,
  isTable,
  type KeyOf,
  type KeyValueStore,
  type NoStores,
  type PartitionStores,
  type Processor,
  type QueueValueOf,
  type RawRecord,
  type RecordError,
  type RecordErrorKind,
  type RecordOutcome,
  RecordPipeline,
  type RowOf,
  type SchemaRegistryClient,
  type SerdeRole,
  type StoreKeyOf,
  type StoreMap,
  type StoreValueOf,
  string,
  type TopicMap,
  type ValueOf,
} from '@exactly/core';

export interface TestDriverOptions {
  /** Needed by `avro()` serdes, e.g. `confluentSchemaRegistry({ url })` on `startSchemaRegistry()`. */
  readonly registry?: SchemaRegistryClient;
  /** Add `exactly.source.topic|partition|offset` headers to every output, as the runtime can. Default false. */
  readonly provenance?: boolean;
  /**
   * The most bytes a record may take on each output (and dead-letter) topic, as the runtime reads them from
   * the topics' `max.message.bytes`: an output over it makes its input a dead letter. Default: Kafka's default
   * (1048588) for every topic not named.
   */
  readonly maxRecordBytes?: Readonly<Record<string, number>>;
}

export interface SendOptions {
  /** Input partition; default 0. Offsets count up per partition from 0, as in Kafka. */
  readonly partition?: number;
  /** Record timestamp in ms since the epoch; default `Date.now()`. Set it when a handler reads it. */
  readonly timestamp?: number;
  readonly headers?: Readonly<Record<string, string | Buffer>>;
}

/** An input record as bytes, for input that the topic's serdes would never produce. */
export interface RawInput extends SendOptions {
  /** Default `null` (no key). */
  readonly key?: Buffer | null;
  /** `null` is a tombstone. */
  readonly value: Buffer | null;
}

export interface PublishOptions {
  /** The message's `message_id`; default a new one per publish. Publish one id twice to see it handled once. */
  readonly messageId?: string;
  /** Default ''. */
  readonly routingKey?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Milliseconds since the epoch; default `Date.now()`. */
  readonly timestamp?: number;
  readonly redelivered?: boolean;
}

/** A message published to an exchange output, decoded with its serde. */
export interface TestExchangeMessage<V> {
  readonly exchange: string;
  readonly routingKey: string;
  readonly value: V;
  /** Stable: the same input published again after a crash gives the same id. */
  readonly messageId: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** The names of a processor's topic outputs, of its table outputs and of its exchange outputs. */
type TopicNames<O> = { [N in keyof O]: O[N] extends AnyTable | AnyExchange ? never : N }[keyof O] & string;
type TableNames<O> = { [N in keyof O]: O[N] extends AnyTable ? N : never }[keyof O] & string;
type ExchangeNames<O> = { [N in keyof O]: O[N] extends AnyExchange ? N : never }[keyof O] & string;

/** Where an input record was: what dead letters and provenance headers point back to. */
export interface SourceLocation {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** An output record, decoded with its topic's serdes. */
export interface TestOutputRecord<K, V> {
  readonly topic: string;
  readonly key: K | null;
  readonly value: V;
  /** Header values as UTF-8 text. */
  readonly headers: Readonly<Record<string, string>>;
  /** Set when the handler chose a partition. */
  readonly partition?: number;
  /** The input record it was produced for. */
  readonly source: SourceLocation;
}

/** A record sent to the dead-letter topic: the input's bytes as they came, and why. */
export interface DeadLetter {
  readonly topic: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly kind: RecordErrorKind;
  readonly reason: string;
  /** All of the dead-letter record's headers (the input's, plus `exactly.error.*` and `exactly.source.*`). */
  readonly headers: Readonly<Record<string, string>>;
  readonly source: SourceLocation;
  /** The typed error (DecodeError, HandlerError or EncodeError), with its cause. */
  readonly error: RecordError;
}

interface BoundTopic {
  readonly name: string;
  readonly key: BoundSerde<unknown>;
  readonly value: BoundSerde<unknown>;
  readonly tombstones: boolean;
}

interface Bound {
  readonly pipeline: RecordPipeline;
  readonly input: BoundTopic;
  /** Output name and serdes, by topic name. */
  readonly outputs: ReadonlyMap<string, BoundTopic>;
  /** Each exchange output's value serde, by output name. */
  readonly exchanges: ReadonlyMap<string, BoundSerde<unknown>>;
}

/**
 * Runs a processor in memory, without a broker, through the same RecordPipeline as production
 * (decode -> handle -> encode -> dead letter). Modelled on Kafka Streams' TopologyTestDriver.
 *
 * Records are processed one at a time in the order they are sent, even if sends are not awaited.
 * With `onError: 'stop'`, a failing record rejects its send() with the DecodeError, HandlerError or
 * EncodeError and records nothing; the driver itself goes on with the next record.
 */
export class TestDriver<I extends AnyInput, O extends TopicMap, S extends StoreMap = NoStores> {
  private bound: Promise<Bound> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private offsets = new Map<number, bigint>();
  private outputs = new Map<string, Array<TestOutputRecord<unknown, unknown>>>();
  private dead: DeadLetter[] = [];
  /** Each table output's rows, by output name, as the table would hold them after every send's commit. */
  private tables = new Map<string, Array<Readonly<Record<string, unknown>>>>();
  /** Each exchange output's messages, by output name. */
  private published = new Map<string, Array<TestExchangeMessage<unknown>>>();
  /** A queue input's message ids handled so far: a message published again with one of them is skipped. */
  private seenIds = new Set<string>();
  private nextMessageId = 0;
  /** Each input partition's stores, as the runtime keeps them; every send is a committed transaction here. */
  private stores = new Map<number, PartitionStores>();

  /** Serdes are bound (Avro registers its schemas) on the first send; use `TestDriver.create` to do it now. */
  constructor(
    readonly processor: Processor<I, O, S>,
    private readonly options: TestDriverOptions = {},
  ) {}

  /** A driver with its serdes bound, so that a setup error (e.g. no registry for avro()) rejects here. */
  static async create<I extends AnyInput, O extends TopicMap, S extends StoreMap = NoStores>(
    processor: Processor<I, O, S>,
    options: TestDriverOptions = {},
  ): Promise<TestDriver<I, O, S>> {
    const driver = new TestDriver(processor, options);
    await driver.ready();
    return driver;
  }

  /** Encodes `key` and `value` with the input topic's serdes, then processes the record. */
  send(key: KeyOf<I> | null, value: ValueOf<I>, options: SendOptions = {}): Promise<void> {
    return this.enqueue(async () => {
      const { input } = await this.ready();
      if (isQueue(this.processor.input)) throw new TypeError('send() is for a topic input: use publish() for a queue');
      const keyBytes = key === null || key === undefined ? null : await encodeInput(input, 'key', key);
      const valueBytes = value === null && input.tombstones ? null : await encodeInput(input, 'value', value);
      await this.process({ ...options, key: keyBytes, value: valueBytes });
    });
  }

  /**
   * For a queue input: encodes `value` with the queue's serde and handles the message, as the runtime would after
   * its delivery; a message id handled before is skipped (the runtime's de-duplication, with no window).
   */
  publish(value: QueueValueOf<I>, options: PublishOptions = {}): Promise<void> {
    return this.enqueue(async () => {
      const bound = await this.ready();
      const { pipeline, input } = bound;
      if (!isQueue(this.processor.input)) throw new TypeError('publish() is for a queue input: use send()');
      const messageId = options.messageId ?? `test-message-${this.nextMessageId++}`;
      if (this.seenIds.has(messageId)) return;
      const timestamp = options.timestamp ?? Date.now();
      const raw: RawRecord = {
        topic: input.name,
        partition: 0,
        offset: messageId,
        timestamp,
        key: Buffer.from(messageId),
        value: await encodeInput(input, 'value', value),
        headers: options.headers ?? {},
        queue: {
          messageId,
          routingKey: options.routingKey ?? '',
          exchange: '',
          redelivered: options.redelivered ?? false,
        },
      };
      const outcome = await pipeline.process(raw);
      const source = { topic: input.name, partition: 0, offset: messageId };
      this.seenIds.add(messageId);
      await this.record(outcome, bound, source);
    });
  }

  /** Processes a record given as bytes: for malformed input, tombstones, records from other producers. */
  sendRaw(input: RawInput): Promise<void> {
    return this.enqueue(async () => {
      const key = input.key ?? null;
      if (key !== null && !Buffer.isBuffer(key)) throw new TypeError('sendRaw(): key must be a Buffer or null');
      if (input.value !== null && !Buffer.isBuffer(input.value)) {
        throw new TypeError('sendRaw(): value must be a Buffer or null');
      }
      await this.process({ ...input, key });
    });
  }

  /** The records written to output `name` so far, decoded, oldest first. */
  output<N extends TopicNames<O>>(name: N): ReadonlyArray<TestOutputRecord<KeyOf<O[N]>, ValueOf<O[N]>>> {
    const topic = this.outputNamed(name, 'output');
    if (isTable(topic)) throw new TypeError(`output('${name}') is a table: read its rows with rows('${name}')`);
    if (isExchange(topic)) throw new TypeError(`output('${name}') is an exchange: read it with messages('${name}')`);
    const records = this.outputs.get(topic.name) ?? [];
    return [...records] as Array<TestOutputRecord<KeyOf<O[N]>, ValueOf<O[N]>>>;
  }

  /** The messages published to exchange output `name` so far, decoded, oldest first. */
  messages<N extends ExchangeNames<O>>(name: N): ReadonlyArray<TestExchangeMessage<ExchangeValueOf<O[N]>>> {
    const exchange = this.outputNamed(name, 'messages');
    if (!isExchange(exchange)) throw new TypeError(`messages('${name}') is not an exchange output`);
    return [...(this.published.get(name) ?? [])] as Array<TestExchangeMessage<ExchangeValueOf<O[N]>>>;
  }

  /**
   * The rows of table output `name`, as the table would hold them after the sends so far (each send commits):
   * inserted in order; with `onConflict` a row whose conflict columns match an earlier one keeps the earlier
   * (`nothing`) or replaces it (`update`). A plain INSERT's conflicts depend on the table's own unique indexes,
   * which the driver does not know: every row is kept.
   */
  rows<N extends TableNames<O>>(name: N): ReadonlyArray<RowOf<O[N]>> {
    const table = this.outputNamed(name, 'rows');
    if (!isTable(table)) {
      const how = isExchange(table)
        ? `an exchange: read it with messages('${name}')`
        : `a topic: read its records with output('${name}')`;
      throw new TypeError(`rows('${name}') is ${how}`);
    }
    return [...(this.tables.get(name) ?? [])] as Array<RowOf<O[N]>>;
  }

  private outputNamed(name: string, method: string): AnyTopic | AnyTable | AnyExchange {
    const output = this.processor.outputs[name];
    if (!output) {
      const names = Object.keys(this.processor.outputs).join(', ');
      throw new TypeError(`${method}('${name}'): no such output (outputs: ${names})`);
    }
    return output;
  }

  /** The records sent to the dead-letter topic so far, oldest first. */
  deadLetters(): readonly DeadLetter[] {
    return [...this.dead];
  }

  /**
   * Store `name` of input partition `partition` (default 0), to read what the handler left there or to seed it
   * before a send: what you put or delete here counts as committed at once. Resolves once serdes are bound.
   */
  async store<N extends keyof S & string>(
    name: N,
    partition = 0,
  ): Promise<KeyValueStore<StoreKeyOf<S[N]>, StoreValueOf<S[N]>>> {
    const stores = await this.storesOf(partition);
    const view = stores.views[name];
    if (!view) {
      const names = Object.keys(this.processor.stores).join(', ') || 'none';
      throw new TypeError(`store('${name}'): no such store (stores: ${names})`);
    }
    const committed = <T>(change: () => T): T => {
      const result = change();
      stores.keepRecord();
      stores.applyTransaction();
      return result;
    };
    return {
      get: (key) => view.get(key) as StoreValueOf<S[N]> | undefined,
      has: (key) => view.has(key),
      entries: () => view.entries() as IterableIterator<[StoreKeyOf<S[N]>, StoreValueOf<S[N]>]>,
      put: (key, value) => committed(() => view.put(key, value)),
      delete: (key) => committed(() => view.delete(key)),
    };
  }

  /** Forgets outputs, dead letters, offsets and every store's state (serdes stay bound). Call it between sends. */
  reset(): void {
    this.offsets = new Map();
    this.outputs = new Map();
    this.dead = [];
    this.tables = new Map();
    this.stores = new Map();
    this.published = new Map();
    this.seenIds = new Set();
  }

  private async storesOf(partition: number): Promise<PartitionStores> {
    const { pipeline } = await this.ready();
    let stores = this.stores.get(partition);
    if (!stores) {
      stores = pipeline.createStores(partition);
      this.stores.set(partition, stores);
    }
    return stores;
  }

  private ready(): Promise<Bound> {
    this.bound ??= bind(this.processor as unknown as Processor, this.options);
    return this.bound;
  }

  /** One record at a time, in send order; a failed send does not block the next. */
  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => {});
    return run;
  }

  private async process(input: RawInput & { readonly key: Buffer | null }): Promise<void> {
    const bound = await this.ready();
    const { pipeline } = bound;
    const partition = input.partition ?? 0;
    const timestamp = input.timestamp ?? Date.now();
    if (!Number.isInteger(partition) || partition < 0) {
      throw new TypeError(`partition must be a non-negative integer, got ${partition}`);
    }
    if (!Number.isFinite(timestamp)) throw new TypeError(`timestamp must be a number of ms, got ${timestamp}`);
    const offset = this.offsets.get(partition) ?? 0n;
    this.offsets.set(partition, offset + 1n);
    const source = { topic: this.processor.input.name, partition, offset: String(offset) };
    const raw: RawRecord = { ...source, timestamp, key: input.key, value: input.value, headers: input.headers ?? {} };
    const stores = await this.storesOf(partition);
    const outcome = await pipeline.process(raw, stores);
    // Each send is its own committed transaction: a dead letter's changes were undone by the pipeline.
    stores.applyTransaction();
    await this.record(outcome, bound, source);
  }

  /**
   * A record's outcome as its committed transaction would leave it: its dead letter (or the error, with
   * `onError: 'stop'`), or its outputs, rows and messages.
   */
  private async record(outcome: RecordOutcome, bound: Bound, source: SourceLocation): Promise<void> {
    if (!outcome.ok) {
      if (this.processor.onError === 'stop') throw outcome.error;
      this.dead.push(deadLetterOf(outcome.deadLetter, outcome.error, source));
      return;
    }
    // Decode everything before recording anything: a record's outputs appear all together or not at all.
    const decoded = await Promise.all(outcome.records.map((record) => decodeOutput(bound.outputs, record, source)));
    const messages = await Promise.all(outcome.messages.map((message) => decodeMessage(bound.exchanges, message)));
    for (const record of decoded) {
      const list = this.outputs.get(record.topic) ?? [];
      list.push(record);
      this.outputs.set(record.topic, list);
    }
    for (const { output, table, row } of outcome.rows) {
      const rows = this.tables.get(output) ?? [];
      const conflict = table.onConflict;
      const same = conflict
        ? rows.findIndex((earlier) => conflict.columns.every((column) => earlier[column] === row[column]))
        : -1;
      if (same < 0) rows.push(row);
      else if (conflict?.action === 'update') rows[same] = row;
      this.tables.set(output, rows);
    }
    for (const [index, message] of messages.entries()) {
      const output = outcome.messages[index]?.output ?? '';
      this.published.set(output, [...(this.published.get(output) ?? []), message]);
    }
  }
}

async function bind(processor: Processor, options: TestDriverOptions): Promise<Bound> {
  const outputTopics = Object.values(processor.outputs).filter(
    (output): output is AnyTopic => !isTable(output) && !isExchange(output),
  );
  const topics = [...outputTopics.map((t) => t.name), processor.deadLetter];
  const pipeline = await RecordPipeline.create(processor, {
    registry: options.registry,
    provenance: options.provenance,
    maxRecordBytes: {
      ...Object.fromEntries(topics.map((topic) => [topic, DEFAULT_MAX_MESSAGE_BYTES])),
      ...options.maxRecordBytes,
    },
  });
  const bindTopic = async (topic: AnyTopic): Promise<BoundTopic> => ({
    name: topic.name,
    key: await bindSerde(topic.key, { topic: topic.name, role: 'key', registry: options.registry }),
    value: await bindSerde(topic.value, { topic: topic.name, role: 'value', registry: options.registry }),
    tombstones: topic.tombstones === true,
  });
  const outputs = new Map<string, BoundTopic>();
  for (const topic of outputTopics) outputs.set(topic.name, await bindTopic(topic));
  const { input } = processor;
  // A queue's messages have no key: the message id stands in for it.
  const inputTopic = isQueue(input)
    ? { name: input.name, key: string(), value: input.value, tombstones: false }
    : input;
  const exchanges = new Map<string, BoundSerde<unknown>>();
  for (const [name, output] of Object.entries(processor.outputs)) {
    if (!isExchange(output)) continue;
    exchanges.set(
      name,
      await bindSerde(output.value, { topic: output.name, role: 'value', registry: options.registry }),
    );
  }
  return { pipeline, input: await bindTopic(inputTopic), outputs, exchanges };
}

async function decodeMessage(
  exchanges: ReadonlyMap<string, BoundSerde<unknown>>,
  message: ExchangeMessage,
): Promise<TestExchangeMessage<unknown>> {
  const serde = exchanges.get(message.output);
  if (!serde) throw new Error(`the pipeline published to ${message.output}, which is no exchange output`);
  return {
    exchange: message.exchange,
    routingKey: message.routingKey,
    value: await serde.deserialize(message.content),
    messageId: message.messageId,
    headers: message.headers,
  };
}

async function encodeInput(input: BoundTopic, role: SerdeRole, value: unknown): Promise<Buffer> {
  try {
    return await input[role].serialize(value);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TypeError(`send(): the ${role} cannot be encoded for input topic ${input.name}: ${reason}`, {
      cause: error,
    });
  }
}

async function decodeOutput(
  outputs: ReadonlyMap<string, BoundTopic>,
  record: EncodedRecord,
  source: SourceLocation,
): Promise<TestOutputRecord<unknown, unknown>> {
  const output = outputs.get(record.topic);
  if (!output) throw new Error(`the pipeline wrote to topic ${record.topic}, which is no output of this processor`);
  const key = record.key === null ? null : await output.key.deserialize(record.key);
  if (record.value === null && !output.tombstones)
    throw new Error(`the pipeline wrote a record without a value to ${record.topic}`);
  const value = record.value === null ? null : await output.value.deserialize(record.value);
  return {
    topic: record.topic,
    key,
    value,
    headers: textHeaders(record.headers),
    ...(record.partition === undefined ? {} : { partition: record.partition }),
    source,
  };
}

function deadLetterOf(record: EncodedRecord, error: RecordError, source: SourceLocation): DeadLetter {
  return {
    topic: record.topic,
    key: record.key,
    value: record.value,
    kind: error.kind,
    reason: error.reason,
    headers: textHeaders(record.headers),
    source,
    error,
  };
}

function textHeaders(headers: Readonly<Record<string, Buffer | string>>): Record<string, string> {
  const text: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    text[name] = typeof value === 'string' ? value : value.toString('utf8');
  return text;
}
