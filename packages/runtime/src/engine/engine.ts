import { setTimeout as delay } from 'node:timers/promises';
import { backoffMs } from '../backoff.js';
import type {
  BatchControl,
  ConsumedBatch,
  ConsumerOptions,
  ConsumerPort,
  PollControl,
  TopicPartition,
} from '../port/client.js';
import type { ClientError } from '../port/errors.js';
import type { EngineContext } from './context.js';
import { InstanceTask } from './instance-task.js';
import { PartitionTask } from './partition-task.js';

/** How long a fenced partition waits for a rebalance to take it away before it is opened again. */
const FENCED_PATIENCE_MS = 5000;

/**
 * Runs the consumer's deliveries through transactions, in the mode the client adapter's fencing allows.
 * - 'partition' (KafkaJS): a partition task per input partition, each with its own producer. Each batch's
 *   transactions begin and end while the consumer holds the batch, so a rebalance (which waits for batches in
 *   hand) never revokes a partition with a transaction open; and if one is left open by a crash, the next
 *   owner's InitProducerId aborts it.
 * - 'instance' (KIP-447): one instance task, one producer, one transaction per poll across partitions.
 */
export class Engine {
  private readonly tasks = new Map<number, PartitionTask>();
  /**
   * Partitions whose producer was fenced, and when. Usually a rebalance takes them away soon; if the group still
   * gives them to us after FENCED_PATIENCE_MS (a broker restart can fence a live owner: its transaction was
   * aborted and the epoch bumped), a new task opens them again: fencing first, then reading the offset, so it is
   * safe even if another owner exists.
   */
  private readonly fenced = new Map<number, number>();
  private readonly consumer: ConsumerPort;
  /** 'instance' mode: partitions that delivered since the last assignment (logged once each). */
  private readonly positioned = new Set<number>();
  /** Set in 'instance' fencing mode. */
  private readonly instanceTask: InstanceTask | undefined;
  private stopping: Promise<void> | undefined;
  /** Records in batches being handled now. The consumer fetches again only when they are done. */
  private inFlight = 0;
  private failure: Error | undefined;
  private settle!: { resolve: () => void; reject: (error: Error) => void };
  /** Resolves when the engine has stopped; rejects with the reason if it stopped on an error. */
  readonly done: Promise<void>;

  constructor(
    private readonly ctx: Omit<EngineContext, 'fail'>,
    consumerOptions: ConsumerOptions,
  ) {
    this.consumer = ctx.adapter.consumer(consumerOptions);
    this.instanceTask =
      ctx.adapter.fencing === 'instance' ? new InstanceTask({ ...ctx, fail: (error) => this.fail(error) }) : undefined;
    this.done = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.done.catch(() => {}); // observed by run()'s caller; never an unhandled rejection here
  }

  async start(): Promise<void> {
    // Before the first offset is read: a restarted instance ends its predecessor's open transaction first.
    await this.instanceTask?.open();
    // Per-partition producers open with their partition's first batch: ask now whether this user may use their
    // transactional ids, so that a missing ACL stops the start rather than the first record.
    if (!this.instanceTask)
      await this.ctx.admin.checkTransactionalId(`${this.ctx.processorId}.${this.ctx.inputTopic}.0`);
    await this.consumer.start({
      onBatch: (batch, control) => this.onBatch(batch, control),
      onPoll: (batches, control) => this.onPoll(batches, control),
      onAssignment: (partitions) => this.onAssignment(partitions),
      onCrash: (error: ClientError) =>
        this.fail(new Error(`the Kafka consumer stopped: ${error.message}`, { cause: error })),
    });
  }

  private async onBatch(batch: ConsumedBatch, control: BatchControl): Promise<void> {
    const fencedAt = this.fenced.get(batch.partition);
    if (fencedAt !== undefined && Date.now() - fencedAt >= FENCED_PATIENCE_MS) this.fenced.delete(batch.partition);
    if (this.stopping || this.fenced.has(batch.partition)) {
      if (batch.records[0]) control.seek(batch.records[0].offset);
      if (this.fenced.has(batch.partition)) await delay(backoffMs(2)); // wait for the rebalance that takes it away
      return;
    }
    let task = this.tasks.get(batch.partition);
    if (!task) {
      task = new PartitionTask({ ...this.ctx, fail: (error) => this.fail(error) }, batch);
      this.tasks.set(batch.partition, task);
    }
    const inFlight = this.ctx.metrics;
    this.inFlight += batch.records.length;
    inFlight.inFlightRecords.set(this.inFlight);
    inFlight.peakInFlight = Math.max(inFlight.peakInFlight, this.inFlight);
    let result: Awaited<ReturnType<PartitionTask['handle']>>;
    try {
      result = await task.handle(batch, control);
    } finally {
      this.inFlight -= batch.records.length;
      inFlight.inFlightRecords.set(this.inFlight);
    }
    if (result === 'fenced') {
      this.tasks.delete(batch.partition);
      this.fenced.set(batch.partition, Date.now());
    }
  }

  private async onPoll(batches: readonly ConsumedBatch[], control: PollControl): Promise<void> {
    const task = this.instanceTask;
    if (!task) throw new Error('onPoll is for adapters with instance fencing');
    if (this.stopping) return control.rewind();
    for (const batch of batches) {
      if (this.positioned.has(batch.partition)) continue;
      this.positioned.add(batch.partition);
      this.ctx.log.info({ partition: batch.partition, committed: batch.records[0]?.offset }, 'partition opened');
    }
    const records = batches.reduce((sum, batch) => sum + batch.records.length, 0);
    const metrics = this.ctx.metrics;
    this.inFlight += records;
    metrics.inFlightRecords.set(this.inFlight);
    metrics.peakInFlight = Math.max(metrics.peakInFlight, this.inFlight);
    try {
      await task.handle(batches, control);
    } finally {
      this.inFlight -= records;
      metrics.inFlightRecords.set(this.inFlight);
    }
  }

  private onAssignment(partitions: readonly TopicPartition[]): void {
    const owned = new Set(partitions.filter((p) => p.topic === this.ctx.inputTopic).map((p) => p.partition));
    this.ctx.metrics.rebalances.inc();
    this.ctx.metrics.assignedPartitions.set(owned.size);
    this.ctx.log.info({ partitions: [...owned].sort((a, b) => a - b) }, 'partitions assigned');
    this.fenced.clear();
    this.positioned.clear();
    this.instanceTask?.assigned([...owned]);
    for (const [partition, task] of this.tasks) {
      if (owned.has(partition)) task.markStale();
      else {
        this.tasks.delete(partition);
        this.ctx.metrics.lag.remove({ partition });
        void task.close();
      }
    }
    // With tables, a partition's task opens (fences, claims) at assignment, not at its first records: what a dead
    // owner left prepared holds its rows locked until resolved, and a partition with no new records would keep it.
    // A partition kept across the rebalance opens again too: another owner may have had it in between.
    if (this.ctx.tables && !this.instanceTask) {
      for (const partition of owned) {
        let task = this.tasks.get(partition);
        if (!task) {
          task = new PartitionTask(
            { ...this.ctx, fail: (error) => this.fail(error) },
            { topic: this.ctx.inputTopic, partition },
          );
          this.tasks.set(partition, task);
        }
        task.openEarly();
      }
    }
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.ctx.log.error({ err: error }, 'processor stopping on an error');
    void this.stop();
  }

  /** Finishes the batches in hand (their transactions commit or abort), leaves the group, closes producers. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.consumer.stop();
      await Promise.all([...this.tasks.values()].map((task) => task.close()));
      await this.instanceTask?.close();
      this.tasks.clear();
      await this.ctx.admin.close();
      if (this.failure) this.settle.reject(this.failure);
      else this.settle.resolve();
    })();
    return this.stopping;
  }
}
