import { setTimeout as delay } from 'node:timers/promises';
import { type AnyQueue, dedupChangelogTopic, type RawRecord } from '@exactly/core';
import { backoffMs } from '../backoff.js';
import { ProcessorStoppedError } from '../errors.js';
import type { AmqpDelivery, AmqpPort, QueueSubscription } from '../port/amqp.js';
import { type BatchWork, deadLettered, type HandledRecord, runPipeline } from './batch-work.js';
import type { EngineContext } from './context.js';
import { crashPoint } from './crash-points.js';
import { DedupWindow } from './dedup-window.js';
import { exchangeParticipant } from './exchange-side.js';
import { settledRange, type TransactionParticipant } from './state.js';
import { TransactionOwner } from './transaction-owner.js';

/** The transactional.id of a queue's one writer: the same in every instance, so each takeover fences the last. */
export function queueTransactionalId(processorId: string, queue: string): string {
  return `${processorId}.queue.${queue}`;
}

type BatchResult = 'ok' | 'retry' | 'fenced' | 'stopped';

/**
 * Runs a processor whose input is a queue. One writer per queue: the broker's single active consumer gives the
 * queue's deliveries to one consumer at a time, and that consumer, at its subscription's first delivery, takes
 * the queue's transactional.id (InitProducerId fences whoever had it, a paused zombie included) and rebuilds the
 * window of committed message ids from its changelog. Then, per batch:
 *   1. each delivery: no id: a dead letter; an id in the window (committed before, not acknowledged): a
 *      duplicate, not processed again; else handled by the pipeline;
 *   2. one Kafka transaction: the outputs, dead letters, the new ids (and the window's deletes), and the exchange
 *      messages published with confirms before the commit (TransactionOwner's phases);
 *   3. after the commit is confirmed: the batch's deliveries acknowledged, and the window updated.
 * A crash between 2 and 3 leaves the deliveries unacknowledged: the broker gives them to the next active
 * consumer, which finds their ids in the window and acknowledges them without processing.
 */
export class QueueEngine {
  private readonly owner: TransactionOwner;
  private readonly window: DedupWindow;
  private subscription: QueueSubscription | undefined;
  /** Counts subscriptions: a delivery of an earlier one (its channel closed) is dropped, not handled. */
  private generation = 0;
  /** Deliveries of the current subscription not yet taken into a batch. */
  private buffer: AmqpDelivery[] = [];
  private wake: (() => void) | undefined;
  /** The producer has fenced earlier writers and the window was read back, for the current subscription. */
  private active = false;
  private stopping = false;
  private running: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private settle!: { resolve: () => void; reject: (error: Error) => void };
  readonly done: Promise<void>;
  private readonly ctx: EngineContext;

  constructor(
    context: Omit<EngineContext, 'fail'>,
    private readonly amqp: AmqpPort,
    private readonly queue: AnyQueue,
    private readonly prefetch: number,
    private readonly commitIntervalMs: number,
  ) {
    this.ctx = { ...context, fail: (error) => this.fail(error) };
    this.owner = new TransactionOwner(this.ctx, queueTransactionalId(context.processorId, queue.name), 'partition');
    this.window = new DedupWindow(dedupChangelogTopic(context.processorId, queue.name), queue.dedup);
    this.done = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.done.catch(() => {});
  }

  /** Checks the transactional.id may be used and the queue has single active consumer, then consumes. */
  async start(): Promise<void> {
    await this.ctx.admin.checkTransactionalId(this.owner.transactionalId);
    await this.subscribe();
    this.running = this.loop().catch((error: unknown) =>
      this.fail(error instanceof Error ? error : new Error(String(error))),
    );
  }

  private async subscribe(): Promise<void> {
    this.buffer = [];
    this.active = false;
    this.ctx.metrics.queueUnacknowledged.set(0);
    // Deliveries start before subscribe() answers: they are told apart by the subscription they came with.
    const generation = ++this.generation;
    const subscription = await this.amqp.subscribe(this.queue, this.prefetch, (delivery) => {
      if (this.generation !== generation) return;
      this.buffer.push(delivery);
      this.ctx.metrics.queueUnacknowledged.inc();
      this.wake?.();
    });
    if (this.generation !== generation || this.stopping) {
      await subscription.close();
      return;
    }
    this.subscription = subscription;
    this.ctx.log.info(
      { queue: this.queue.name, prefetch: this.prefetch },
      'consuming the queue (single active consumer)',
    );
    void subscription.closed.then((reason) => {
      if (this.subscription !== subscription) return;
      this.subscription = undefined;
      this.generation++;
      this.buffer = []; // the broker puts them back in the queue
      this.ctx.metrics.queueUnacknowledged.set(0);
      if (!this.stopping) this.ctx.log.warn({ queue: this.queue.name, reason: String(reason) }, 'queue channel closed');
      this.wake?.();
    });
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    while (!this.stopping) {
      const subscription = this.subscription;
      if (!subscription) {
        try {
          await this.subscribe();
          attempt = 0;
        } catch (error) {
          if ((error as { kind?: unknown }).kind === 'fatal') throw error;
          const waitMs = backoffMs(attempt++);
          this.ctx.log.warn({ queue: this.queue.name, error: String(error), waitMs }, 'subscribing again failed');
          await delay(waitMs);
        }
        continue;
      }
      await this.batchReady();
      if (this.stopping || this.subscription !== subscription || this.buffer.length === 0) continue;
      const batch = this.buffer.splice(0, this.owner.recordLimit);
      const result = await this.handle(batch);
      if (result === 'stopped') return;
      if (result === 'retry' && this.subscription === subscription) this.buffer.unshift(...batch);
      if (result === 'fenced') {
        // Another consumer took the queue over while this one was away: start again as a standby.
        this.subscription = undefined;
        this.generation++;
        await subscription.close().catch(() => {});
      }
    }
  }

  /** Waits for a first delivery, then up to the commit interval for a full batch (or a close, or a stop). */
  private async batchReady(): Promise<void> {
    const waitFor = (ms?: number) =>
      new Promise<void>((resolve) => {
        const timer = ms === undefined ? undefined : setTimeout(resolve, ms);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      }).finally(() => {
        this.wake = undefined;
      });
    const subscription = this.subscription;
    while (this.buffer.length === 0 && !this.stopping && this.subscription === subscription) await waitFor();
    const until = performance.now() + this.commitIntervalMs;
    while (
      this.buffer.length < this.owner.recordLimit &&
      !this.stopping &&
      this.subscription === subscription &&
      performance.now() < until
    ) {
      await waitFor(Math.max(1, until - performance.now()));
    }
  }

  /** The subscription's first batch takes the queue's producer (fencing the last writer) and reads the window. */
  private async activate(): Promise<void> {
    await this.owner.open();
    const started = performance.now();
    this.window.clear();
    const { changelog } = this.window;
    await settledRange(this.ctx, changelog, 0);
    await this.ctx.admin.readToEnd(changelog, 0, null, (records) => {
      for (const record of records) if (record.key) this.window.restore(record.key, record.value);
    });
    this.active = true;
    this.ctx.log.info(
      { queue: this.queue.name, ids: this.window.size, ms: Math.round(performance.now() - started) },
      'took the queue over: producer fenced its predecessors, de-duplication window read back',
    );
  }

  private async handle(batch: readonly AmqpDelivery[]): Promise<BatchResult> {
    try {
      if (!this.active || !this.owner.isOpen) {
        // Taking the producer fences whoever has it: not from a channel the broker has closed already (a resumed
        // zombie's), whose deliveries are another consumer's now.
        const subscription = this.subscription;
        if (!subscription || !(await subscription.alive())) {
          if (subscription) await Promise.race([subscription.closed, delay(1_000)]);
          return 'retry';
        }
        await this.activate();
      }
      return await this.process(batch);
    } catch (error) {
      const recovery = await this.owner.recover(error);
      if (recovery !== 'redo') this.active = false;
      if (recovery === 'fenced' || recovery === 'stopped') return recovery;
      return 'retry';
    }
  }

  private async process(batch: readonly AmqpDelivery[]): Promise<BatchResult> {
    const now = Date.now();
    const fresh: RawRecord[] = [];
    const withoutId: HandledRecord[] = [];
    const inBatch = new Set<string>();
    let duplicates = 0;
    /** How many deliveries from the front are settled by this batch (all, unless it stops on a bad one). */
    let settled = batch.length;
    const stopOnError = this.ctx.pipeline.processor.onError === 'stop';
    for (const [index, delivery] of batch.entries()) {
      const id = delivery.messageId;
      const raw = this.rawOf(delivery, id ?? '', now);
      if (id === undefined || id === '') {
        const outcome = this.ctx.pipeline.undecodable(
          raw,
          'the message has no id: publish it with the message_id property, or give queue(name, { messageId: (message) => ... })',
        );
        if (stopOnError) {
          settled = index;
          return this.commit(batch, settled, fresh, withoutId, duplicates, outcome.error);
        }
        this.ctx.log.warn(
          { queue: this.queue.name, reason: outcome.error.reason },
          'message sent to the dead-letter topic',
        );
        withoutId.push(deadLettered(raw, outcome.deadLetter, outcome.error));
        continue;
      }
      if (this.window.has(id) || inBatch.has(id)) {
        duplicates++;
        continue;
      }
      inBatch.add(id);
      fresh.push(raw);
    }
    return this.commit(batch, settled, fresh, withoutId, duplicates, undefined);
  }

  /** Phases 1-3 of the batch's transaction (TransactionOwner), then the acknowledgements. */
  private async commit(
    batch: readonly AmqpDelivery[],
    settledCount: number,
    fresh: readonly RawRecord[],
    withoutId: readonly HandledRecord[],
    duplicates: number,
    stoppedEarly: BatchWork['stoppedOn'],
  ): Promise<BatchResult> {
    const work = await runPipeline(this.ctx, fresh, this.owner.refused);
    let settled = settledCount;
    if (work.stoppedOn) settled = batch.findIndex((d) => d.messageId === work.stoppedOn?.location.offset);
    const handled = [...work.handled, ...withoutId];
    if (handled.length > 0) {
      const ids = work.handled.map((h) => h.input.offset);
      const participants: TransactionParticipant[] = [this.window.participant(ids, Date.now())];
      const exchange = exchangeParticipant(this.ctx, this.amqp, handled, (input, why) =>
        this.owner.refuseInput(input, why),
      );
      if (exchange) participants.push(exchange);
      await this.owner.commit({ handled, stoppedOn: undefined }, [], participants);
      crashPoint('decided');
      this.observeDelays(batch, settled);
    }
    this.acknowledge(batch, settled, duplicates);
    const stoppedOn = work.stoppedOn ?? stoppedEarly;
    if (stoppedOn) {
      this.ctx.fail(new ProcessorStoppedError(stoppedOn));
      return 'stopped';
    }
    return 'ok';
  }

  /** Acknowledges the first `count` deliveries of the batch (the last of them, with every earlier one). */
  private acknowledge(batch: readonly AmqpDelivery[], count: number, duplicates: number): void {
    const last = batch[count - 1];
    if (!last) return;
    const metrics = this.ctx.metrics;
    if (last.ack()) {
      metrics.queueAcknowledged.inc(count);
      metrics.queueUnacknowledged.dec(count);
    } else {
      // The channel closed after the commit: the broker redelivers them, and the next consumer skips them.
      this.ctx.log.info(
        { queue: this.queue.name, messages: count },
        'committed, but the channel closed before the acknowledgement',
      );
    }
    if (duplicates > 0) {
      metrics.queueDuplicates.inc(duplicates);
      this.ctx.log.info(
        { queue: this.queue.name, duplicates },
        'messages delivered again after their commit: acknowledged, not processed again',
      );
    }
  }

  private observeDelays(batch: readonly AmqpDelivery[], count: number): void {
    const now = Date.now();
    for (let i = 0; i < count; i++) {
      const publishedAt = batch[i]?.publishedAt;
      if (publishedAt !== undefined) this.ctx.metrics.queueDelay.observe(Math.max(0, now - publishedAt) / 1000);
    }
  }

  /** A delivery as the pipeline's record: the queue as its topic, the message id where an offset would be. */
  private rawOf(delivery: AmqpDelivery, id: string, now: number): RawRecord {
    return {
      topic: this.queue.name,
      partition: 0,
      offset: id,
      timestamp: delivery.publishedAt ?? now,
      key: id === '' ? null : Buffer.from(id, 'utf8'),
      value: delivery.content,
      headers: delivery.headers,
      queue: {
        messageId: id,
        routingKey: delivery.routingKey,
        exchange: delivery.exchange,
        redelivered: delivery.redelivered,
      },
    };
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.ctx.log.error({ err: error }, 'processor stopping on an error');
    void this.stop();
  }

  /** Finishes the batch in hand, stops consuming (what was not acknowledged goes back to the queue), closes. */
  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.wake?.();
      await this.running;
      await this.subscription?.close().catch(() => {});
      this.subscription = undefined;
      await this.owner.close();
      await this.ctx.admin.close();
      if (this.failure) this.settle.reject(this.failure);
      else this.settle.resolve();
    }
    return this.done.catch(() => {});
  }
}
