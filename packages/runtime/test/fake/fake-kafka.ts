import { DEFAULT_MAX_MESSAGE_BYTES, type EncodedRecord, type RawRecord, recordBatchBytes } from '@exactly/core';
import {
  type AdminPort,
  type BatchControl,
  type ClientAdapter,
  type ConsumedBatch,
  type ConsumerHandlers,
  type ConsumerOptions,
  type ConsumerPort,
  type PartitionOffset,
  type PollControl,
  type ProducerOptions,
  type SentEnds,
  sentKey,
  type TopicPartition,
  type TransactionalProducerPort,
  type TransactionPort,
} from '../../src/port/client.js';
import { ClientError, type ErrorKind } from '../../src/port/errors.js';

/** The port calls a test can make fail, or watch. */
export type FakeCall = 'init' | 'begin' | 'send' | 'sendOffsets' | 'commit' | 'abort' | 'committedOffsets';

export interface CallInfo {
  readonly call: FakeCall;
  readonly transactionalId?: string;
  readonly records?: readonly EncodedRecord[];
  readonly offsets?: readonly PartitionOffset[];
}

export interface FaultOptions {
  /** The broker's error name, for logs and for the engine's checks. Default: one typical of the kind. */
  readonly code?: string;
  /** How many calls in a row fail. Default 1. */
  readonly times?: number;
  /**
   * The call takes effect, then fails: the caller cannot know it happened (a commit whose answer was lost).
   * Default false: the call fails and changes nothing.
   */
  readonly takeEffect?: boolean;
  /** Only calls this accepts fail (and count). */
  readonly when?: (call: CallInfo) => boolean;
}

interface Fault {
  readonly code: string;
  times: number;
  readonly takeEffect: boolean;
  readonly call: FakeCall;
  readonly kind: ErrorKind;
  readonly when: ((call: CallInfo) => boolean) | undefined;
}

type EntryState = 'committed' | 'pending' | 'aborted';

interface LogEntry {
  readonly record: RawRecord;
  state: EntryState;
}

class FakeTransaction {
  readonly entries: LogEntry[] = [];
  readonly offsets = new Map<string, { groupId: string; offset: PartitionOffset }>();
  state: 'open' | 'committed' | 'aborted' = 'open';
  readonly startedAt = Date.now();

  constructor(
    readonly transactionalId: string,
    readonly epoch: number,
    readonly timeoutMs: number,
  ) {}
}

const DEFAULT_CODES: Record<ErrorKind, string> = {
  retriable: 'REQUEST_TIMED_OUT',
  abortable: 'INVALID_TXN_STATE',
  fenced: 'INVALID_PRODUCER_EPOCH',
  membership: 'ILLEGAL_GENERATION',
  refused: 'MESSAGE_TOO_LARGE',
  fatal: 'TOPIC_AUTHORIZATION_FAILED',
};

/**
 * An in-memory Kafka behind the engine's client port: topics with read_committed visibility, a consumer group
 * with committed offsets and generations, transactional producers with epochs (InitProducerId fences and ends
 * an open transaction; a transaction older than its timeout is aborted and its producer fenced), KIP-447
 * offset commits refused from an old generation, and require_stable offset reads. A test makes any call fail
 * with any kind of error (or take effect and then fail), runs code between two calls, and moves partitions.
 */
export class FakeKafka {
  /**
   * As KafkaJS can: when a batch's handler seeks back (a rewind after an abort), the fetch already made from
   * past that batch is still delivered, once ('partition' fencing).
   */
  staleFetchAfterRewind = false;
  private readonly topics = new Map<string, LogEntry[][]>();
  private readonly limits = new Map<string, number>();
  private readonly deleteRetention = new Map<string, number>();
  /** Records a topic refuses whatever their size (as a broker refuses an invalid record), with the code. */
  private readonly refusals = new Map<string, { refuses: (record: EncodedRecord) => boolean; code: string }>();
  private readonly committed = new Map<string, bigint>();
  private readonly epochs = new Map<string, number>();
  private readonly open = new Map<string, FakeTransaction>();
  private readonly faults: Fault[] = [];
  private readonly hooks: { call: FakeCall; run: (info: CallInfo) => void | Promise<void> }[] = [];
  private readonly members: FakeConsumer[] = [];
  /** Input partitions held by a member outside this process ("another instance"). */
  private readonly elsewhere = new Set<string>();
  private waiters: (() => void)[] = [];
  /** Every port call, in order. */
  readonly calls: CallInfo[] = [];
  /** Every readToEnd (a store's restore): where it began (null: the log's start) and how many it read. */
  readonly restores: { topic: string; partition: number; from: string | null; records: number }[] = [];
  generation = 0;

  createTopic(
    name: string,
    partitions: number,
    options: { maxMessageBytes?: number; deleteRetentionMs?: number } = {},
  ): void {
    this.topics.set(
      name,
      Array.from({ length: partitions }, () => []),
    );
    if (options.maxMessageBytes !== undefined) this.limits.set(name, options.maxMessageBytes);
    if (options.deleteRetentionMs !== undefined) this.deleteRetention.set(name, options.deleteRetentionMs);
  }

  /** Writes input records outside any transaction (a plain producer); `id`s become JSON values `{ id }`. */
  produce(topic: string, records: ReadonlyArray<{ key?: string; value: string; partition?: number }>): void {
    for (const record of records) {
      this.append(
        topic,
        {
          topic,
          key: record.key ? Buffer.from(record.key) : null,
          value: Buffer.from(record.value),
          headers: {},
          partition: record.partition,
        },
        'committed',
      );
    }
    this.wake();
  }

  /** What a read_committed consumer sees on `topic`, partition by partition. */
  read(topic: string): RawRecord[] {
    return this.partitionsOf(topic).flatMap((log) => log.filter((e) => e.state === 'committed').map((e) => e.record));
  }

  /** Records of aborted transactions on `topic` (written, never visible). */
  aborted(topic: string): RawRecord[] {
    return this.partitionsOf(topic).flatMap((log) => log.filter((e) => e.state === 'aborted').map((e) => e.record));
  }

  committedOffset(groupId: string, topic: string, partition: number): bigint | null {
    return this.committed.get(offsetKey(groupId, topic, partition)) ?? null;
  }

  /** The next call(s) of `call` fail with an error of `kind`. */
  failNext(call: FakeCall, kind: ErrorKind, options: FaultOptions = {}): void {
    this.faults.push({
      call,
      kind,
      code: options.code ?? DEFAULT_CODES[kind],
      times: options.times ?? 1,
      takeEffect: options.takeEffect ?? false,
      when: options.when,
    });
  }

  /**
   * `topic` refuses the records `refuses` picks, with `code` (a limit or rule the engine could not know of
   * before sending).
   */
  refuseOn(topic: string, refuses: (record: EncodedRecord) => boolean, code = 'INVALID_RECORD'): void {
    this.refusals.set(topic, { refuses, code });
  }

  /** Runs `run` before each `call`, before any fault: to move partitions or fence between two calls. */
  before(call: FakeCall, run: (info: CallInfo) => void | Promise<void>): () => void {
    const hook = { call, run };
    this.hooks.push(hook);
    return () => this.hooks.splice(this.hooks.indexOf(hook), 1);
  }

  /** Another process's InitProducerId on `transactionalId`: fences its producers, aborts its transaction. */
  fence(transactionalId: string): void {
    this.bumpEpoch(transactionalId);
  }

  /** A rebalance that gives every member the same partitions again, in a new generation. */
  rebalance(): void {
    this.reassign();
  }

  /** Moves `partitions` of `topic` to a member outside this process, in a new generation. */
  revoke(topic: string, partitions: readonly number[]): void {
    for (const partition of partitions) this.elsewhere.add(`${topic}:${partition}`);
    this.reassign();
  }

  /** Gives partitions held elsewhere back to this process's members, in a new generation. */
  restore(): void {
    this.elsewhere.clear();
    this.reassign();
  }

  inits(transactionalId?: string): number {
    return this.calls.filter((c) => c.call === 'init' && (!transactionalId || c.transactionalId === transactionalId))
      .length;
  }

  count(call: FakeCall): number {
    return this.calls.filter((c) => c.call === call).length;
  }

  adapter(fencing: 'partition' | 'instance'): ClientAdapter {
    return {
      name: `fake-${fencing}`,
      fencing,
      consumer: (options) => new FakeConsumer(this, options, fencing),
      producer: (options) => new FakeProducer(this, options),
      admin: () => this.admin(),
    };
  }

  // --- for the fake's own parts -------------------------------------------------------------------------

  /** Records a call, runs its hooks, and throws the fault planned for it (before or after `effect`). */
  async call<T>(info: CallInfo, effect: () => T): Promise<T> {
    this.expireTransactions();
    this.calls.push(info);
    for (const hook of this.hooks.filter((h) => h.call === info.call)) await hook.run(info);
    const fault = this.faults.find((f) => f.call === info.call && (!f.when || f.when(info)));
    if (fault) {
      fault.times -= 1;
      if (fault.times <= 0) this.faults.splice(this.faults.indexOf(fault), 1);
      const error = new ClientError(fault.kind, fault.code, `${fault.code} (injected into ${info.call})`);
      if (fault.takeEffect) effect();
      throw error;
    }
    return effect();
  }

  epochOf(transactionalId: string): number {
    return this.epochs.get(transactionalId) ?? 0;
  }

  /** InitProducerId: a new epoch, and the end of the id's open transaction. */
  bumpEpoch(transactionalId: string): number {
    const epoch = this.epochOf(transactionalId) + 1;
    this.epochs.set(transactionalId, epoch);
    const open = this.open.get(transactionalId);
    if (open) this.end(open, 'aborted');
    return epoch;
  }

  beginTransaction(transactionalId: string, epoch: number, timeoutMs: number): FakeTransaction {
    const transaction = new FakeTransaction(transactionalId, epoch, timeoutMs);
    this.open.set(transactionalId, transaction);
    return transaction;
  }

  /** Throws what a broker answers a producer that is no longer the id's current one. */
  checkCurrent(transaction: FakeTransaction): void {
    if (transaction.state === 'open' && transaction.epoch === this.epochOf(transaction.transactionalId)) return;
    throw new ClientError('fenced', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_EPOCH: a newer producer exists');
  }

  appendTransactional(transaction: FakeTransaction, records: readonly EncodedRecord[]): SentEnds {
    for (const record of records) {
      const limit = this.limits.get(record.topic) ?? DEFAULT_MAX_MESSAGE_BYTES;
      if (recordBatchBytes(record) > limit) {
        throw new ClientError(
          'refused',
          'MESSAGE_TOO_LARGE',
          'MESSAGE_TOO_LARGE: The request included a message larger than the max message size the server will accept.',
        );
      }
      const refusal = this.refusals.get(record.topic);
      if (refusal?.refuses(record))
        throw new ClientError('refused', refusal.code, `${refusal.code}: refused by the topic`);
    }
    const ends = new Map<string, bigint>();
    for (const record of records) {
      const entry = this.append(record.topic, record, 'pending');
      transaction.entries.push(entry);
      ends.set(sentKey(entry.record.topic, entry.record.partition), BigInt(entry.record.offset) + 1n);
    }
    return ends;
  }

  addOffsets(transaction: FakeTransaction, groupId: string, offsets: readonly PartitionOffset[]): void {
    for (const offset of offsets) {
      if (offset.membership && offset.membership.generationId !== this.generation) {
        throw new ClientError(
          'membership',
          'ILLEGAL_GENERATION',
          `ILLEGAL_GENERATION: generation ${offset.membership.generationId} is over (now ${this.generation})`,
        );
      }
    }
    for (const offset of offsets) {
      transaction.offsets.set(offsetKey(groupId, offset.topic, offset.partition), { groupId, offset });
    }
  }

  end(transaction: FakeTransaction, state: 'committed' | 'aborted'): void {
    if (transaction.state !== 'open') return;
    transaction.state = state;
    for (const entry of transaction.entries) entry.state = state;
    if (state === 'committed') {
      for (const [key, { offset }] of transaction.offsets) this.committed.set(key, BigInt(offset.offset));
    }
    if (this.open.get(transaction.transactionalId) === transaction) this.open.delete(transaction.transactionalId);
    this.wake();
  }

  /** require_stable: offsets another transaction is about to commit are not read yet. */
  stableOffsets(groupId: string, topic: string): Map<number, bigint | null> {
    for (const transaction of this.open.values()) {
      for (const { groupId: group, offset } of transaction.offsets.values()) {
        if (group === groupId && offset.topic === topic) {
          throw new ClientError(
            'retriable',
            'UNSTABLE_OFFSET_COMMIT',
            'UNSTABLE_OFFSET_COMMIT: a transaction is pending',
          );
        }
      }
    }
    const offsets = new Map<number, bigint | null>();
    this.partitionsOf(topic).forEach((_, partition) => {
      offsets.set(partition, this.committedOffset(groupId, topic, partition));
    });
    return offsets;
  }

  /** The coordinator aborts transactions older than their timeout, and bumps the epoch (fencing the producer). */
  expireTransactions(): void {
    const now = Date.now();
    for (const transaction of [...this.open.values()]) {
      if (now - transaction.startedAt > transaction.timeoutMs) {
        this.end(transaction, 'aborted');
        this.epochs.set(transaction.transactionalId, this.epochOf(transaction.transactionalId) + 1);
      }
    }
  }

  /**
   * Records from `from` on, stopping before the first record of a transaction still open (the last stable
   * offset), skipping aborted ones; `next` is where the next read starts.
   */
  fetch(topic: string, partition: number, from: bigint, max: number): { records: RawRecord[]; next: bigint } {
    const log = this.partitionsOf(topic)[partition] ?? [];
    const records: RawRecord[] = [];
    let next = from;
    for (let offset = Number(from); offset < log.length && records.length < max; offset++) {
      const entry = log[offset] as LogEntry;
      if (entry.state === 'pending') break;
      if (entry.state === 'committed') records.push(entry.record);
      next = BigInt(offset + 1);
    }
    return { records, next };
  }

  partitionCount(topic: string): number {
    return this.partitionsOf(topic).length;
  }

  join(member: FakeConsumer): void {
    this.members.push(member);
    this.reassign();
  }

  leave(member: FakeConsumer): void {
    const index = this.members.indexOf(member);
    if (index >= 0) this.members.splice(index, 1);
    this.reassign();
  }

  /** Resolves at the next change (records, commits, rebalances), or after `ms`. */
  changed(ms = 20): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private reassign(): void {
    this.generation += 1;
    const byTopic = new Map<string, FakeConsumer[]>();
    for (const member of this.members) byTopic.set(member.topic, [...(byTopic.get(member.topic) ?? []), member]);
    for (const [topic, members] of byTopic) {
      const free = this.partitionsOf(topic)
        .map((_, partition) => partition)
        .filter((partition) => !this.elsewhere.has(`${topic}:${partition}`));
      members.forEach((member, index) => {
        member.assign(
          this.generation,
          free.filter((_, i) => i % members.length === index),
        );
      });
    }
    this.wake();
  }

  private append(topic: string, record: EncodedRecord, state: EntryState): LogEntry {
    const partitions = this.partitionsOf(topic);
    const partition = record.partition ?? (record.key ? hash(record.key) % partitions.length : 0);
    const log = partitions[partition];
    if (!log) throw new Error(`fake: topic ${topic} has no partition ${partition}`);
    const entry: LogEntry = {
      record: {
        topic,
        partition,
        offset: String(log.length),
        timestamp: Date.now(),
        key: record.key,
        value: record.value,
        headers: { ...record.headers },
      },
      state,
    };
    log.push(entry);
    return entry;
  }

  /** The last stable offset: the first record of a transaction still open, or the log's end. */
  stableEnd(topic: string, partition: number): number {
    const log = this.partitionsOf(topic)[partition] ?? [];
    const end = log.findIndex((e) => e.state === 'pending');
    return end < 0 ? log.length : end;
  }

  private partitionsOf(topic: string): LogEntry[][] {
    const partitions = this.topics.get(topic);
    if (!partitions) throw new Error(`fake: no topic ${topic}`);
    return partitions;
  }

  private admin(): AdminPort {
    return {
      partitionCounts: async (topics) =>
        new Map(topics.filter((t) => this.topics.has(t)).map((t) => [t, this.partitionCount(t)])),
      createTopics: async (specs) => {
        for (const spec of specs) this.createTopic(spec.name, spec.partitions);
      },
      topicSettings: async (topics, setting) =>
        new Map(
          topics.map((t) => [
            t,
            setting === 'max.message.bytes'
              ? (this.limits.get(t) ?? DEFAULT_MAX_MESSAGE_BYTES)
              : (this.deleteRetention.get(t) ?? 86_400_000),
          ]),
        ),
      // The fake has no ACLs: every transactional id may be used.
      checkTransactionalId: async () => {},
      offsetRange: async (topic, partition) => {
        this.expireTransactions();
        return {
          start: '0',
          stableEnd: String(this.stableEnd(topic, partition)),
          end: String(this.partitionsOf(topic)[partition]?.length ?? 0),
        };
      },
      committedOffsets: (groupId, topic, _partitions) =>
        this.call({ call: 'committedOffsets' }, () => {
          const offsets = new Map<number, string | null>();
          for (const [partition, offset] of this.stableOffsets(groupId, topic))
            offsets.set(partition, offset === null ? null : String(offset));
          return offsets;
        }),
      readToEnd: async (topic, partition, from, onRecords) => {
        const log = this.partitionsOf(topic)[partition] ?? [];
        const end = this.stableEnd(topic, partition);
        const start = from === null ? 0 : Number(from);
        const records = log
          .slice(start, end)
          .filter((e) => e.state === 'committed')
          .map((e) => e.record);
        if (records.length > 0) onRecords(records);
        this.restores.push({ topic, partition, from, records: records.length });
        return String(Math.max(start, end));
      },
      close: async () => {},
    };
  }
}

class FakeProducer implements TransactionalProducerPort {
  private epoch = -1;

  constructor(
    private readonly kafka: FakeKafka,
    private readonly options: ProducerOptions,
  ) {}

  init(): Promise<void> {
    return this.kafka.call({ call: 'init', transactionalId: this.options.transactionalId }, () => {
      this.epoch = this.kafka.bumpEpoch(this.options.transactionalId);
    });
  }

  async begin(): Promise<TransactionPort> {
    const transactionalId = this.options.transactionalId;
    const transaction = await this.kafka.call({ call: 'begin', transactionalId }, () => {
      if (this.epoch !== this.kafka.epochOf(transactionalId))
        throw new ClientError('fenced', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_EPOCH: a newer producer exists');
      return this.kafka.beginTransaction(transactionalId, this.epoch, this.options.transactionTimeoutMs);
    });
    const kafka = this.kafka;
    return {
      send: (records) =>
        kafka.call({ call: 'send', transactionalId, records }, () => {
          kafka.checkCurrent(transaction);
          return kafka.appendTransactional(transaction, records);
        }),
      sendOffsets: (groupId, offsets) =>
        kafka.call({ call: 'sendOffsets', transactionalId, offsets }, () => {
          kafka.checkCurrent(transaction);
          kafka.addOffsets(transaction, groupId, offsets);
        }),
      commit: () =>
        kafka.call({ call: 'commit', transactionalId }, () => {
          kafka.checkCurrent(transaction);
          kafka.end(transaction, 'committed');
        }),
      abort: () =>
        kafka.call({ call: 'abort', transactionalId }, () => {
          kafka.checkCurrent(transaction);
          kafka.end(transaction, 'aborted');
        }),
    };
  }

  identity() {
    return { producerId: this.options.transactionalId, epoch: this.epoch };
  }

  async close(): Promise<void> {}
}

/** Fetches at most this many records per partition at a time (a fetch answer's worth). */
const FETCH_RECORDS = 500;

class FakeConsumer implements ConsumerPort {
  private handlers: ConsumerHandlers | undefined;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private generation = 0;
  private partitions: number[] = [];
  /** Set by a new assignment or a rewind: positions are read again from the group's stable offsets. */
  private reposition = true;
  private readonly positions = new Map<number, bigint>();
  /** Fetches made from past a batch whose handler then sought back (see staleFetchAfterRewind). */
  private readonly prefetched = new Map<number, bigint>();
  private readonly memberId = `member-${Math.random().toString(36).slice(2, 8)}`;

  constructor(
    private readonly kafka: FakeKafka,
    private readonly options: ConsumerOptions,
    private readonly fencing: 'partition' | 'instance',
  ) {}

  get topic(): string {
    return this.options.topic;
  }

  assign(generation: number, partitions: number[]): void {
    this.generation = generation;
    this.partitions = partitions;
    this.reposition = true;
    this.handlers?.onAssignment(partitions.map((partition) => ({ topic: this.topic, partition })));
  }

  async start(handlers: ConsumerHandlers): Promise<void> {
    this.handlers = handlers;
    this.kafka.join(this);
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
    this.kafka.leave(this);
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      this.kafka.expireTransactions();
      if (this.reposition && !this.readPositions()) {
        await this.kafka.changed();
        continue;
      }
      const delivered = this.fencing === 'instance' ? await this.poll() : await this.batches();
      if (!delivered) await this.kafka.changed();
    }
  }

  /** Positions from the group's committed offsets (require_stable); false while a transaction holds them. */
  private readPositions(): boolean {
    let stable: Map<number, bigint | null>;
    try {
      stable = this.kafka.stableOffsets(this.options.groupId, this.topic);
    } catch {
      return false;
    }
    this.positions.clear();
    for (const partition of this.partitions) this.positions.set(partition, stable.get(partition) ?? 0n);
    this.reposition = false;
    return true;
  }

  /** 'instance' fencing: one poll over every owned partition. */
  private async poll(): Promise<boolean> {
    const generation = this.generation;
    const batches: ConsumedBatch[] = [];
    let room = this.options.maxPollRecords;
    for (const partition of this.partitions) {
      const from = this.positions.get(partition) ?? 0n;
      const { records, next } = this.kafka.fetch(this.topic, partition, from, Math.min(room, FETCH_RECORDS));
      if (records.length === 0) continue;
      room -= records.length;
      batches.push({
        topic: this.topic,
        partition,
        records,
        membership: { memberId: this.memberId, generationId: generation },
        nextOffset: next.toString(),
        highWatermark: next.toString(),
      });
      if (room <= 0) break;
    }
    if (batches.length === 0) return false;
    let rewound = false;
    const control: PollControl = {
      isCurrent: () => !rewound && !this.stopping && generation === this.kafka.generation,
      rewind: () => {
        rewound = true;
        this.reposition = true;
      },
    };
    await this.handlers?.onPoll(batches, control);
    // The stream reads on whatever the engine did with the poll, unless it rewound or the group moved on.
    if (!rewound && generation === this.generation) {
      for (const batch of batches) this.positions.set(batch.partition, BigInt(batch.nextOffset));
    }
    return true;
  }

  /** 'partition' fencing: one batch per owned partition, as KafkaJS's eachBatch gives them. */
  private async batches(): Promise<boolean> {
    let delivered = false;
    for (const partition of [...this.partitions]) {
      if (this.reposition || this.stopping) break;
      const generation = this.generation;
      const stale = this.prefetched.get(partition);
      this.prefetched.delete(partition);
      const from = stale ?? this.positions.get(partition) ?? 0n;
      const { records, next } = this.kafka.fetch(this.topic, partition, from, FETCH_RECORDS);
      if (records.length === 0) {
        if (next > from && stale === undefined) this.positions.set(partition, next);
        continue;
      }
      delivered = true;
      let sought = false;
      const control: BatchControl = {
        advance: (offset) => this.positions.set(partition, BigInt(offset)),
        seek: (offset) => {
          sought = true;
          this.positions.set(partition, BigInt(offset));
          if (this.kafka.staleFetchAfterRewind && BigInt(offset) < next) this.prefetched.set(partition, next);
        },
        isCurrent: () => !sought && !this.stopping,
        heartbeat: async () => (generation === this.kafka.generation ? 'ok' : 'rebalancing'),
      };
      await this.handlers?.onBatch(
        {
          topic: this.topic,
          partition,
          records,
          nextOffset: next.toString(),
          highWatermark: next.toString(),
          fetchedFrom: from.toString(),
        },
        control,
      );
    }
    return delivered;
  }
}

function offsetKey(groupId: string, topic: string, partition: number): string {
  return `${groupId}|${topic}|${partition}`;
}

function hash(key: Buffer): number {
  let h = 0;
  for (const byte of key) h = (h * 31 + byte) >>> 0;
  return h;
}

export type { TopicPartition };
