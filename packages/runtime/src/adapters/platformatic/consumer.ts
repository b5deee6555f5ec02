import { setTimeout as delay } from 'node:timers/promises';
import type { RawRecord } from '@exactly/core';
import {
  Admin,
  Consumer,
  FetchIsolationLevels,
  type Message,
  type MessagesStream,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
} from '@platformatic/kafka';
import { backoffMs } from '../../backoff.js';
import type {
  ConsumedBatch,
  ConsumerHandlers,
  ConsumerOptions,
  ConsumerPort,
  GroupMembership,
} from '../../port/client.js';
import { classifyPlatformaticError, guard } from './classify.js';
import { baseOptions, type PlatformaticConnection } from './connection.js';
import { applyReadCommittedRule } from './read-committed.js';

type Stream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;

/**
 * A consumer for KIP-447 transactions, delivering whole polls. Two things the client's own stream does not do
 * are done here:
 * - Offsets are read with require_stable, so a new owner waits for the previous owner's pending transactional
 *   offset commit instead of reading the offset before it (the client's committed mode does not ask for it).
 * - Every rebalance and every rewind starts a fresh stream from those offsets; records fetched before it are
 *   dropped, never committed.
 * A "membership" stream that is never read (so never fetches) holds the subscription, so that data streams can
 * come and go without the client rejoining the group each time.
 */
export function platformaticConsumer(connection: PlatformaticConnection, options: ConsumerOptions): ConsumerPort {
  return new PollingConsumer(connection, options);
}

class PollingConsumer implements ConsumerPort {
  private readonly consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  private readonly admin: Admin;
  private handlers: ConsumerHandlers | undefined;
  private membership: Stream | undefined;
  private stream: Stream | undefined;
  /** The membership the current stream's records are committed with. */
  private streamMembership: GroupMembership | undefined;
  /** Bumped by every rebalance, rewind and stop: records and polls of an older generation are obsolete. */
  private generation = 0;
  /**
   * Fetched records waiting for a poll, already in our own form: the client's message (a headers map, a bound
   * commit function, BigInts) is garbage at once instead of living through the poll's transaction.
   */
  private queue: RawRecord[] = [];
  /** When the oldest queued record arrived: the poll closes maxWaitMs after it at the latest. */
  private queuedAt = 0;
  /** Pending while records keep arriving in this turn of the event loop: a fetch answer is being delivered. */
  private delivering: NodeJS.Immediate | undefined;
  private wake: (() => void) | undefined;
  private stopping = false;
  private listening = false;
  /**
   * Set by a failed stream or a rewind: start again from the group's stable offsets, but only once the poll in
   * hand is over. A reopen while its transaction still runs reads the offsets before that transaction adds its
   * own, and the same generation lets both commit: 3-node chaos found 5,493 inputs twice.
   */
  private reopenWanted = false;
  private loop: Promise<void> | undefined;
  /**
   * The membership and partitions of the last completed join, taken together from the join event. Offsets are
   * committed with this generation, never with the one the client stamps on a message: the client stamps the
   * generation current when a fetch *answer* arrives, so a fetch issued before a rebalance could carry the new
   * generation for a partition this member no longer owns, and the coordinator would accept its offset
   * (chaos found it: 13,500 records twice).
   */
  private joined: { membership: GroupMembership; partitions: number[] } | undefined;

  constructor(
    private readonly connection: PlatformaticConnection,
    private readonly options: ConsumerOptions,
  ) {
    this.consumer = new Consumer({
      ...baseOptions(connection, 'consumer'),
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      rebalanceTimeout: Math.max(60_000, options.sessionTimeoutMs),
      autocommit: false, // offsets are committed only inside transactions
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      minBytes: options.minBytes,
      maxBytes: options.maxBytes,
      maxBytesPerPartition: options.maxBytesPerPartition,
      maxWaitTime: options.maxWaitMs,
      highWaterMark: options.maxPollRecords,
    });
    applyReadCommittedRule(this.consumer);
    this.admin = new Admin(baseOptions(connection, 'offsets', false));
  }

  async start(handlers: ConsumerHandlers): Promise<void> {
    this.handlers = handlers;
    // start() is called again after a failed start-up (a join that failed while Kafka was away): listen once, or
    // every later join would reopen the stream and report the assignment once per attempt.
    if (!this.listening) this.listen();
    await this.subscribe(); // joins the group: the join event opens the first data stream
    this.loop ??= this.run();
  }

  private listen(): void {
    this.listening = true;
    // Registered before any stream's own listener: the generation moves before an old stream delivers more.
    this.consumer.on('consumer:group:join', (payload) => {
      this.joined = {
        membership: {
          memberId: payload.memberId,
          generationId: payload.generationId ?? this.consumer.generationId,
        },
        partitions: (payload.assignments ?? this.consumer.assignments ?? [])
          .filter((a) => a.topic === this.options.topic)
          .flatMap((a) => a.partitions),
      };
      void this.reopen(true);
    });
    this.consumer.on('error', (error: unknown) => this.onClientError(error));
    // What the client does about the group on its own, for the logs: it is where a stall would show.
    const log = this.connection.log;
    this.consumer.on('consumer:group:rebalance', () => log?.('info', 'the group is rebalancing', {}));
    this.consumer.on('consumer:rejoin', () => log?.('info', 'the consumer rejoined its group', {}));
    this.consumer.on('consumer:heartbeat:error', (payload: { error?: unknown }) => {
      const classified = classifyPlatformaticError(payload?.error);
      log?.('info', 'a heartbeat failed', { code: classified.code, error: classified.message });
    });
    this.consumer.on('consumer:heartbeat:stalled', (payload: { stalledFor?: number }) =>
      log?.('warn', 'no heartbeat has succeeded for a while', { stalledForMs: payload?.stalledFor }),
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.generation++;
    this.wake?.();
    await this.loop; // the poll in hand finishes (its transaction commits or aborts) first
    await this.stream?.close().catch(() => {});
    await this.membership?.close().catch(() => {});
    await this.consumer.close(true).catch(() => {});
    await this.admin.close().catch(() => {});
  }

  /** Joins the group with a stream that is never read; re-made if it ever closes. */
  private async subscribe(): Promise<void> {
    const membership = await guard(() =>
      this.consumer.consume({ topics: [this.options.topic], mode: MessagesStreamModes.MANUAL, offsets: [] }),
    );
    this.membership = membership;
    membership.once('close', () => {
      if (!this.stopping) void this.retry('joining the group', () => this.subscribe());
    });
    membership.on('error', () => {}); // its fate is handled by 'close'
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      await this.waitForPoll();
      if (this.stopping) break;
      if (this.reopenWanted) {
        this.reopenWanted = false;
        await this.retry('reopening the stream', () => this.reopen(false));
        continue;
      }
      const generation = this.generation;
      const stream = this.stream;
      const membership = this.streamMembership;
      const taken = this.queue.splice(0, this.options.maxPollRecords);
      if (this.queue.length > 0) this.queuedAt = Date.now();
      // Everything the stream pushed is in hand: its next fetch positions are past any trailing control records.
      const drained = this.queue.length === 0 && stream !== undefined && stream.readableLength === 0;
      if (stream?.isPaused() && this.queue.length < this.options.maxPollRecords) stream.resume();
      if (taken.length === 0 || !membership) continue;
      await this.handlers?.onPoll(toBatches(taken, membership, drained ? stream?.offsetsToFetch : undefined), {
        isCurrent: () => generation === this.generation && !this.stopping && !this.reopenWanted,
        rewind: () => {
          if (generation === this.generation) this.reopenWanted = true;
        },
      });
    }
  }

  /**
   * Resolves when a poll is due: maxPollRecords queued, or a whole fetch answer delivered (the broker already
   * held the fetch for up to maxWaitMs to gather minBytes, as in the KafkaJS mode), or maxWaitMs since the
   * oldest queued record. Records that arrive while a transaction runs make the next poll: polls grow with the
   * load, and at a moderate rate a record waits for one fetch, not a fetch and then a whole commit interval.
   */
  private async waitForPoll(): Promise<void> {
    while (!this.stopping) {
      if (this.reopenWanted) return;
      if (this.queue.length >= this.options.maxPollRecords) return;
      if (this.queue.length > 0 && this.delivering === undefined) return;
      const waitMs = this.queue.length > 0 ? this.queuedAt + this.options.maxWaitMs - Date.now() : 1000;
      if (this.queue.length > 0 && waitMs <= 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Drops what was fetched and starts a stream at the group's stable committed offsets. */
  private async reopen(rebalanced: boolean): Promise<void> {
    const generation = ++this.generation;
    this.queue = [];
    this.wake?.();
    const old = this.stream;
    this.stream = undefined;
    this.streamMembership = undefined;
    if (old) void old.close().catch(() => {});
    const joined = this.joined;
    if (!joined) return;
    const { membership, partitions } = joined;
    if (rebalanced)
      this.handlers?.onAssignment(partitions.map((partition) => ({ topic: this.options.topic, partition })));
    if (partitions.length === 0) return;
    await this.retry('reading the stable offsets and opening a stream', async () => {
      if (generation !== this.generation || this.stopping) return;
      const offsets = await this.stableOffsets(partitions);
      if (generation !== this.generation || this.stopping) return;
      const stream = await guard(() =>
        this.consumer.consume({
          topics: [this.options.topic],
          mode: MessagesStreamModes.MANUAL,
          offsets,
          // A partition the group never committed starts at its beginning.
          fallbackMode: MessagesStreamFallbackModes.EARLIEST,
          autocommit: false,
          isolationLevel: FetchIsolationLevels.READ_COMMITTED,
          maxWaitTime: this.options.maxWaitMs,
          minBytes: this.options.minBytes,
          maxBytes: this.options.maxBytes,
          maxBytesPerPartition: this.options.maxBytesPerPartition,
          highWaterMark: this.options.maxPollRecords,
        }),
      );
      if (generation !== this.generation || this.stopping) {
        void stream.close().catch(() => {});
        return;
      }
      this.attach(stream, generation, offsets);
      this.streamMembership = membership;
    });
  }

  /**
   * Queues what `stream` delivers, each record once. The client can deliver a partition's records twice within
   * one stream (around a rebalance it refreshes and fetches again while a fetch is still out): 3-node chaos saw
   * 93 records committed twice, in two transactions of one producer. So every record below the next expected
   * offset of its partition (the stream's start, then one past the last record taken) is dropped.
   */
  private attach(stream: Stream, generation: number, from: ReadonlyArray<{ partition: number; offset: bigint }>): void {
    this.stream = stream;
    const limit = 2 * this.options.maxPollRecords; // the memory bound: fetching pauses above it
    const next = new Map(from.map(({ partition, offset }) => [partition, offset]));
    let repeats = 0;
    stream.on('data', (message: Message<Buffer, Buffer, Buffer, Buffer>) => {
      if (generation !== this.generation) return;
      const expected = next.get(message.partition);
      if (expected !== undefined && message.offset < expected) {
        if (repeats++ === 0) {
          this.connection.log?.('warn', 'the client delivered records it had delivered before; dropping them', {
            partition: message.partition,
            offset: message.offset.toString(),
            expected: expected.toString(),
          });
        }
        return;
      }
      next.set(message.partition, message.offset + 1n);
      if (this.queue.length === 0) this.queuedAt = Date.now();
      this.queue.push(toRawRecord(message));
      // A fetch answer's records arrive in one turn; the poll may close once that turn is over.
      this.delivering ??= setImmediate(() => {
        this.delivering = undefined;
        this.wake?.();
      });
      if (this.queue.length === this.options.maxPollRecords) this.wake?.();
      if (this.queue.length >= limit) stream.pause();
    });
    stream.on('error', (error: unknown) => {
      if (generation !== this.generation || this.stopping) return;
      const classified = classifyPlatformaticError(error);
      if (classified.kind === 'fatal') this.handlers?.onCrash(classified);
      else {
        this.connection.log?.('warn', 'the fetch stream failed; reopening it after the poll in hand', {
          code: classified.code,
          error: classified.message,
        });
        this.reopenWanted = true;
        this.wake?.();
      }
    });
  }

  /** The group's committed offsets, waiting out pending transactional commits (require_stable). */
  private async stableOffsets(partitions: readonly number[]) {
    const groups = await guard(() =>
      this.admin.listConsumerGroupOffsets({
        groups: [
          { groupId: this.options.groupId, topics: [{ name: this.options.topic, partitionIndexes: [...partitions] }] },
        ],
        requireStable: true,
      }),
    );
    const offsets: { topic: string; partition: number; offset: bigint }[] = [];
    for (const topic of groups[0]?.topics ?? []) {
      for (const { partitionIndex, committedOffset } of topic.partitions) {
        if (committedOffset >= 0n)
          offsets.push({ topic: topic.name, partition: partitionIndex, offset: committedOffset });
      }
    }
    return offsets;
  }

  /** Runs a step until it succeeds, a fatal error stops the consumer, or the consumer stops. */
  private async retry(what: string, step: () => Promise<void>): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt++) {
      try {
        return await step();
      } catch (error) {
        const classified = classifyPlatformaticError(error);
        if (classified.kind === 'fatal') return this.handlers?.onCrash(classified);
        const waitMs = backoffMs(attempt);
        this.connection.log?.(attempt > 1 ? 'warn' : 'info', `the consumer failed ${what}; retrying`, {
          code: classified.code,
          error: classified.message,
          attempt,
          backoffMs: waitMs,
        });
        await delay(waitMs);
      }
    }
  }

  private onClientError(error: unknown): void {
    if (this.stopping) return;
    const classified = classifyPlatformaticError(error);
    if (classified.kind === 'fatal') this.handlers?.onCrash(classified);
    else
      this.connection.log?.('warn', 'the consumer reported an error', {
        code: classified.code,
        error: classified.message,
      });
  }
}

/** One batch per partition, records in offset order, all committed with the stream's membership. */
function toBatches(
  records: readonly RawRecord[],
  membership: GroupMembership,
  fetchPositions: Map<string, bigint> | undefined,
): ConsumedBatch[] {
  const byPartition = new Map<number, { records: RawRecord[]; topic: string }>();
  for (const record of records) {
    let entry = byPartition.get(record.partition);
    if (!entry) {
      entry = { records: [], topic: record.topic };
      byPartition.set(record.partition, entry);
    }
    entry.records.push(record);
  }
  return [...byPartition].map(([partition, { records, topic }]) => {
    const afterLast = BigInt(records[records.length - 1]?.offset ?? '0') + 1n;
    const fetched = fetchPositions?.get(`${topic}:${partition}`);
    const nextOffset = fetched !== undefined && fetched > afterLast ? fetched : afterLast;
    return {
      topic,
      partition,
      records,
      membership,
      nextOffset: nextOffset.toString(),
      highWatermark: nextOffset.toString(),
    };
  });
}

/** The headers of every record that has none: one object, not one per record. */
const NO_HEADERS: Readonly<Record<string, Buffer>> = Object.freeze({});

function toRawRecord(message: Message<Buffer, Buffer, Buffer, Buffer>): RawRecord {
  let headers = NO_HEADERS;
  if (message.headers.size > 0) {
    const named: Record<string, Buffer> = {};
    for (const [name, value] of message.headers) named[name.toString()] = value;
    headers = named;
  }
  return {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset.toString(),
    timestamp: Number(message.timestamp),
    key: message.key ?? null,
    value: message.value ?? null,
    headers,
  };
}
