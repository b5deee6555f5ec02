import type { EncodedRecord, RawRecord } from '@exactly/core';
import type { Compression } from '../options.js';
import type { ClientError } from './errors.js';

/**
 * The engine's view of a Kafka client: small on purpose, so one adapter per client library fits behind it.
 * Offsets are decimal strings (64-bit). Every method rejects only with a ClientError.
 */
export interface ClientAdapter {
  readonly name: string;
  /**
   * How zombies are fenced, which decides the engine's mode.
   * - 'partition': by transactional.id alone (no KIP-447): one transactional producer per input partition.
   * - 'instance': offsets commit with the group's generation (KIP-447), so the group coordinator refuses a
   *   member that lost a partition: one transactional producer per instance, transactions across partitions.
   */
  readonly fencing: 'partition' | 'instance';
  consumer(options: ConsumerOptions): ConsumerPort;
  producer(options: ProducerOptions): TransactionalProducerPort;
  admin(): AdminPort;
}

/** Where an adapter says what its client library does on its own (retries, reconnects): the engine's log. */
export type AdapterLog = (
  level: 'debug' | 'info' | 'warn' | 'error',
  message: string,
  extra: Record<string, unknown>,
) => void;

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface ConsumerOptions {
  readonly groupId: string;
  readonly topic: string;
  /** Longest a fetch waits for `minBytes` to arrive: the batching window. */
  readonly maxWaitMs: number;
  readonly minBytes: number;
  readonly maxBytesPerPartition: number;
  /** Most bytes one fetch brings, over all partitions: with the wait for batches in hand, the memory bound. */
  readonly maxBytes: number;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  /** How many partitions' batches may be handled at once ('partition' fencing). */
  readonly concurrency: number;
  /** Most records in one poll ('instance' fencing); twice this many may wait in memory. */
  readonly maxPollRecords: number;
}

/**
 * The group membership a batch was fetched under. A KIP-447 offset commit carries it, and the group coordinator
 * refuses it once the generation has moved on. Opaque to the engine: it only hands it back to the producer.
 */
export interface GroupMembership {
  readonly memberId: string;
  readonly generationId: number;
}

export interface ConsumedBatch extends TopicPartition {
  readonly records: readonly RawRecord[];
  /** Set by 'instance'-fencing adapters: the membership to commit this batch's offset with. */
  readonly membership?: GroupMembership;
  /** Offset after the last record (control records included) this fetch covered. */
  readonly nextOffset: string;
  /**
   * The offset the fetch that brought this batch began at, where the client says (KafkaJS). A batch fetched
   * from past the partition's position would skip the records between: the engine drops it and seeks.
   */
  readonly fetchedFrom?: string;
  /** The partition's high watermark when fetched, for lag. */
  readonly highWatermark: string;
}

/** What a batch handler may do with the consumer while it holds the batch. */
export interface BatchControl {
  /** Marks everything before `offset` as done: the next fetch of this partition starts there. */
  advance(offset: string): void;
  /** The next fetch of this partition starts at `offset` (rewind after an abort). */
  seek(offset: string): void;
  /** False once the batch is obsolete (a seek or rebalance happened) or the consumer is stopping. */
  isCurrent(): boolean;
  /**
   * Keeps the group membership alive, and says whether the group wants to rebalance. A handler that gets
   * `'rebalancing'` stops after its last commit, so the rebalance waits for one transaction, not a whole fetch.
   */
  heartbeat(): Promise<'ok' | 'rebalancing'>;
}

/** What a poll handler ('instance' fencing) may do with the consumer while it holds the poll. */
export interface PollControl {
  /** False once the poll is obsolete (a rebalance or rewind happened) or the consumer is stopping. */
  isCurrent(): boolean;
  /** Drops what was fetched and starts again from the group's committed offsets (after an abort). */
  rewind(): void;
}

export interface ConsumerHandlers {
  /**
   * 'partition' fencing: called with one partition's records, read_committed, in offset order, possibly for
   * several partitions at once. Must not throw.
   */
  onBatch(batch: ConsumedBatch, control: BatchControl): Promise<void>;
  /**
   * 'instance' fencing: called with everything one poll brought, one batch per partition, never concurrently.
   * The next poll waits for it. Must not throw.
   */
  onPoll(batches: readonly ConsumedBatch[], control: PollControl): Promise<void>;
  /** The partitions this member owns after a rebalance (all of them, not a delta). */
  onAssignment(partitions: readonly TopicPartition[]): void;
  /** The consumer stopped for good on an error it could not recover from. */
  onCrash(error: ClientError): void;
}

export interface ConsumerPort {
  /** Joins the group and starts delivering batches; resolves once running. */
  start(handlers: ConsumerHandlers): Promise<void>;
  /** Stops fetching, waits for batches in hand to finish, and leaves the group. */
  stop(): Promise<void>;
}

export interface ProducerOptions {
  readonly transactionalId: string;
  readonly clientId?: string;
  readonly transactionTimeoutMs: number;
  /** Outputs are sent in requests of at most this many bytes (below the broker's message.max.bytes). */
  readonly maxRequestBytes: number;
  /** Codec of the record batches sent. */
  readonly compression: Compression;
}

/** One transactional producer. init() fences every earlier producer with the same transactional.id. */
export interface TransactionalProducerPort {
  init(): Promise<void>;
  /** The producer id and epoch init() got, where the client tells them: for logs, to tell writers apart. */
  identity(): { readonly producerId: string; readonly epoch: number } | undefined;
  begin(): Promise<TransactionPort>;
  close(): Promise<void>;
}

export interface PartitionOffset extends TopicPartition {
  /** The next record to read. */
  readonly offset: string;
  /** Required by 'instance'-fencing adapters: the membership the records were fetched under. */
  readonly membership?: GroupMembership;
}

/** Where a send's records landed: for each partition they went to (sentKey), the offset after the last one. */
export type SentEnds = ReadonlyMap<string, bigint>;

/** SentEnds' key of a topic partition. */
export function sentKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

export interface TransactionPort {
  /** Sends records in the transaction; where the client tells, answers where each partition's last one landed. */
  send(records: readonly EncodedRecord[]): Promise<SentEnds>;
  /** Adds the group's offsets to the transaction: they commit with it, or not at all. */
  sendOffsets(groupId: string, offsets: readonly PartitionOffset[]): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  /** Topic settings, e.g. `cleanup.policy: compact` for a store's changelog. */
  readonly config?: Readonly<Record<string, string>>;
}

export interface OffsetRange {
  readonly start: string;
  readonly stableEnd: string;
  readonly end: string;
}

export interface AdminPort {
  /** Partition count of each existing topic among `topics`; missing topics are absent from the map. */
  partitionCounts(topics: readonly string[]): Promise<Map<string, number>>;
  /** Creates each topic; one that exists already (another instance made it a moment ago) is no error. */
  createTopics(topics: readonly TopicSpec[]): Promise<void>;
  /**
   * Each topic's numeric `setting` (`max.message.bytes`, `delete.retention.ms`): its own, or the broker's default
   * it inherits.
   */
  topicSettings(topics: readonly string[], setting: string): Promise<Map<string, number>>;
  /**
   * `topic`/`partition`'s first offset, its last stable offset (the end a read_committed reader sees) and its end
   * (high watermark): the stable offset is below the end while a transaction is open in the partition.
   */
  offsetRange(topic: string, partition: number): Promise<OffsetRange>;
  /**
   * The group's committed offset for each of `partitions` of `topic` (null when none), read with require_stable:
   * rejects (retriable, UNSTABLE_OFFSET_COMMIT) while a transaction holds one of them. The partitions must be
   * named: a broker asked for "all" leaves out a partition whose first commit is still pending.
   */
  committedOffsets(groupId: string, topic: string, partitions: readonly number[]): Promise<Map<number, string | null>>;
  /**
   * Reads `topic`/`partition` read_committed, by Kafka's rule, from `from` (null: the log's start) to the
   * partition's last stable offset when the read begins, handing every committed record to `onRecords` in
   * order; resolves with the offset after the last one read (where to go on from next time). For a store's
   * restore from its changelog.
   */
  readToEnd(
    topic: string,
    partition: number,
    from: string | null,
    onRecords: (records: readonly RawRecord[]) => void,
  ): Promise<string>;
  /**
   * Finds `transactionalId`'s transaction coordinator, as a producer would before its first transaction:
   * rejects (fatal) when this user may not use the id, so a missing ACL is found at start, not at the first record.
   */
  checkTransactionalId(transactionalId: string): Promise<void>;
  close(): Promise<void>;
}
