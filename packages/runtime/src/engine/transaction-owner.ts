import { setTimeout as delay } from 'node:timers/promises';
import type { RawRecord } from '@exactly/core';
import { backoffMs } from '../backoff.js';
import type { PartitionOffset, SentEnds, TransactionalProducerPort, TransactionPort } from '../port/client.js';
import { ClientError } from '../port/errors.js';
import { type BatchWork, type HandledRecord, outputsOf } from './batch-work.js';
import type { EngineContext } from './context.js';
import { RefusedInputs } from './refused-inputs.js';
import type { TransactionParticipant } from './state.js';

/** What the caller does after a failure, once recover() has aborted, waited and logged. */
export type Recovery =
  /** Rewind to the committed position and redo the records, with the same producer. */
  | 'redo'
  /** The producer is gone: open() again (it fences what the old one left), re-read positions, redo. */
  | 'reopen'
  /** A newer producer holds this transactional.id: another owner has the partition (partition fencing). */
  | 'fenced'
  /** The processor is stopping on this error. */
  | 'stopped';

/** Where a transaction failed: before Kafka's decision (it was aborted), or at the decision (outcome unknown). */
type Phase = 'prepare' | 'commit';

/** A failed commit(), with what recover() needs to decide. */
class TransactionFailure extends Error {
  constructor(
    readonly phase: Phase,
    readonly error: ClientError,
    /** How long the transaction had been open: one older than its timeout was aborted by the coordinator. */
    readonly ageMs: number,
  ) {
    super(error.message, { cause: error });
  }
}

/** How often the fast path copies the database's offsets to Kafka's group (see offsetsToKafka). */
const OFFSETS_TO_KAFKA_MS = 5_000;

/** Fenced this many times within FENCING_WINDOW_MS ('instance' fencing): another live process has this id. */
const MAX_FENCINGS = 3;
const FENCING_WINDOW_MS = 60_000;

/**
 * The one owner of a transactional producer's life and of every transaction it runs; both engine modes
 * (a producer per input partition, or one per instance) keep only their positions and call this.
 *
 * open(): InitProducerId. It fences every earlier producer with this transactional.id and completes or aborts
 * the transaction that one left open, so it comes before anyone reads the committed offsets.
 *
 * commit(work, offsets, participants), in three phases:
 *   1. prepare:     a. the participants settle what earlier transactions left (a database's prepared
 *                   transactions); b. begin; send the outputs (dead letters included) and what the participants
 *                   add (the stores' changelog records); add the consumed offsets; c. the participants prepare
 *                   their own transactions (a database's PREPARE TRANSACTION).
 *   2. commit:      EndTxn(commit), which is the decision. Until it is confirmed nothing counts as committed.
 *   3. post-commit: the participants apply their changes (the stores' state, a database's COMMIT PREPARED; one
 *                   that cannot is treated as in doubt, below), forget refused inputs, size the next
 *                   transactions, count the metrics.
 * A failure in 1 aborts (an abort that fails too discards the producer); participants drop their changes. A
 * failure in 2 leaves the outcome unknown: the producer is discarded, and the next open() settles what it left
 * before offsets are re-read; participants forget what may be stale and read it back (a database's prepared
 * transaction is decided later from Kafka's committed offsets).
 * The fast path: a transaction with nothing for Kafka (no outputs, no records from participants) is committed by
 * the one participant that can commit it alone with the offsets (a database, for a processor with tables only).
 *
 * recover(error) decides what follows a failure, by the error's kind:
 *   a. fatal:      stop the processor with the error.
 *   b. fenced:     a transaction older than its timeout was aborted by its coordinator, which bumps the
 *                  epoch: re-open and make transactions smaller. Otherwise another owner holds the id:
 *                  partition fencing gives the partition up; instance fencing re-opens, unless fenced
 *                  MAX_FENCINGS times in a minute (a second live process with this instance id): stop.
 *   c. membership: the group moved on; redo at once, the new owner of each partition does the work.
 *   d. refused:    the broker refused a record: name its input (isolating inputs if need be) and redo; it
 *                  becomes a dead letter.
 *   e. retriable, in phase 1 after a clean abort: back off, redo with the same producer.
 *   f. anything else (abortable, unknown, a failure in phase 2): back off, re-open, redo.
 * The default is (f): abort, discard the producer, re-read where the group stands.
 */
export class TransactionOwner {
  private producer: TransactionalProducerPort | undefined;
  /** Failures since the last commit: the back-off grows with them. */
  private failures = 0;
  private fencings: number[] = [];
  private limit: number;
  readonly refused = new RefusedInputs();
  /** The last refusal named its input, or started isolating inputs: redoing makes progress. */
  private refusalNoted = false;
  /** When the fast path last copied offsets to Kafka's group (performance.now()). */
  private offsetsToKafkaAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly ctx: EngineContext,
    readonly transactionalId: string,
    /** How zombies are fenced: decides what a fenced producer means (see recover, b). */
    private readonly fencing: 'partition' | 'instance',
  ) {
    this.limit = ctx.maxBatchRecords;
  }

  get isOpen(): boolean {
    return this.producer !== undefined;
  }

  /** The open producer's id and epoch, where the client tells them (for logs). */
  identity(): { readonly producerId: string; readonly epoch: number } | undefined {
    return this.producer?.identity();
  }

  /**
   * Most input records per transaction: maxBatchRecords, halved while transactions take more than a quarter
   * of their timeout (a slow broker, large outputs), doubled back while they are quick.
   */
  get recordLimit(): number {
    return this.limit;
  }

  /** InitProducerId: fences earlier producers of this transactional.id and settles their open transaction. */
  async open(): Promise<void> {
    await this.discard();
    const producer = this.ctx.adapter.producer({
      transactionalId: this.transactionalId,
      transactionTimeoutMs: this.ctx.transactionTimeoutMs,
      maxRequestBytes: this.ctx.maxRequestBytes,
      compression: this.ctx.compression,
    });
    try {
      await producer.init();
    } catch (error) {
      await producer.close();
      throw error;
    }
    this.producer = producer;
  }

  /**
   * One transaction: `work`'s outputs, the participants' records and the `offsets` past them, committed
   * together or not at all.
   */
  async commit(
    work: BatchWork,
    offsets: readonly PartitionOffset[],
    participants: readonly TransactionParticipant[] = [],
  ): Promise<void> {
    const producer = this.producer;
    if (!producer)
      throw new ClientError('abortable', 'NO_PRODUCER', `the producer '${this.transactionalId}' is closed`);
    const began = performance.now();
    let transaction: TransactionPort | undefined;
    /** Where the participants' records landed: a store's local copy is checkpointed there once committed. */
    let changesLanded: SentEnds = new Map();
    // 1. prepare
    try {
      // 1a. what earlier transactions left in the participants is settled before anything else commits
      for (const participant of participants) await participant.settle?.();
      const changes = participants.flatMap((p) => p.records());
      const alone = participants.find((p) => p.commitAlone !== undefined);
      const othersIdle = participants.every((p) => p === alone || !p.hasOwnWork?.());
      if (alone && othersIdle && changes.length === 0 && !work.handled.some((h) => h.outputs.length > 0)) {
        await this.commitAlone(work, alone, participants, began);
        await this.offsetsToKafka(offsets);
        return;
      }
      // 1b. Kafka's part: outputs (dead letters included), the participants' records, the offsets
      transaction = await producer.begin();
      await this.send(transaction, work.handled);
      if (changes.length > 0) changesLanded = await transaction.send(changes);
      // A queue input has no offsets: its position is the message ids its participant adds.
      if (offsets.length > 0) await transaction.sendOffsets(this.ctx.groupId, offsets);
      // 1c. the participants' own transactions, prepared: durable, and only waiting for the decision
      for (const participant of participants) await participant.prepare?.();
    } catch (error) {
      if (error instanceof TransactionFailure) throw error; // from the fast path, settled there
      await abortAll(participants);
      const aborted =
        transaction === undefined ||
        (await transaction.abort().then(
          () => true,
          () => false,
        ));
      if (!aborted) await this.discard(); // its transaction state is unknown
      throw new TransactionFailure('prepare', toClientError(error), performance.now() - began);
    }
    // 2. commit
    try {
      await transaction.commit();
    } catch (error) {
      for (const participant of participants) participant.inDoubt();
      await this.discard();
      throw new TransactionFailure('commit', toClientError(error), performance.now() - began);
    }
    // 3. post-commit
    await this.applyCommitted(participants, changesLanded);
    this.countCommitted(work, performance.now() - began);
  }

  /**
   * The fast path, for a transaction with nothing for Kafka: `alone` (a database keeping the offsets) commits
   * the batch by itself; Kafka's transaction is not used. Its 1 writes the rows, its 2 is the COMMIT; 3 as usual.
   */
  private async commitAlone(
    work: BatchWork,
    alone: TransactionParticipant,
    participants: readonly TransactionParticipant[],
    began: number,
  ): Promise<void> {
    try {
      await alone.prepareAlone?.();
    } catch (error) {
      await abortAll(participants);
      throw new TransactionFailure('prepare', toClientError(error), performance.now() - began);
    }
    try {
      await alone.commitAlone?.();
    } catch (error) {
      const cause = toClientError(error);
      // Refused by its fencing check or a constraint: nothing committed. Anything else may have come after COMMIT.
      const refused = cause.kind === 'fenced' || cause.kind === 'membership' || cause.kind === 'refused';
      if (refused) await abortAll(participants);
      else for (const participant of participants) participant.inDoubt();
      throw new TransactionFailure(refused ? 'prepare' : 'commit', cause, performance.now() - began);
    }
    await this.applyCommitted(participants, new Map());
    this.countCommitted(work, performance.now() - began);
  }

  /**
   * After the fast path, the offsets the database committed go to Kafka's group too, at most every
   * OFFSETS_TO_KAFKA_MS: lag monitors read them there, and a restarted consumer starts near. Best effort (the
   * database's are the truth, and the later of the two is where consuming goes on); a failure only discards the
   * producer, which the next transaction opens again.
   */
  private async offsetsToKafka(offsets: readonly PartitionOffset[]): Promise<void> {
    const now = performance.now();
    if (now - this.offsetsToKafkaAt < OFFSETS_TO_KAFKA_MS || !this.producer) return;
    this.offsetsToKafkaAt = now;
    let transaction: TransactionPort | undefined;
    try {
      transaction = await this.producer.begin();
      await transaction.sendOffsets(this.ctx.groupId, offsets);
      await transaction.commit();
    } catch (error) {
      this.ctx.log.debug({ error: String(error) }, "the database's offsets could not be copied to Kafka's group");
      await transaction?.abort().catch(() => {});
      await this.discard();
    }
  }

  /** 3. post-commit: the participants apply what committed; the owner forgets refusals and sizes what comes. */
  private async applyCommitted(participants: readonly TransactionParticipant[], landed: SentEnds): Promise<void> {
    for (const participant of participants) {
      try {
        await participant.committed(landed);
      } catch (error) {
        // The commit stands; what this participant holds does not have it: read it back before use.
        participant.inDoubt();
        this.ctx.log.error(
          { error: String(error) },
          'a committed transaction could not be applied to local state; it is read back before next use',
        );
      }
    }
    this.failures = 0;
    this.refused.clear();
  }

  /** Outputs in one go; while isolating a refusal, each input's outputs on their own, so a refusal names it. */
  private async send(transaction: TransactionPort, handled: readonly HandledRecord[]): Promise<void> {
    if (!this.refused.isolating) {
      const outputs = outputsOf(handled);
      if (outputs.length === 0) return;
      try {
        await transaction.send(outputs);
      } catch (error) {
        const withOutputs = handled.filter((h) => h.outputs.length > 0);
        const only = withOutputs.length === 1 ? withOutputs[0] : undefined;
        this.noteRefusal(error, only);
        throw error;
      }
      return;
    }
    for (const one of handled) {
      if (one.outputs.length === 0) continue;
      try {
        await transaction.send(one.outputs);
      } catch (error) {
        this.noteRefusal(error, one);
        throw error;
      }
    }
  }

  /**
   * A participant's refusal of `input`'s part (a database refused its rows): the redo makes it a dead letter with
   * `reason`, as a broker's refusal of its outputs does.
   */
  refuseInput(input: RawRecord, reason: string): void {
    this.refused.add(input, reason);
    this.refusalNoted = true;
  }

  /** A refused send: remember its input if it is known, else isolate inputs on the redo. */
  private noteRefusal(error: unknown, input: HandledRecord | undefined): void {
    const refusal = toClientError(error);
    if (refusal.kind !== 'refused') return;
    if (!input) {
      this.refusalNoted = !this.refused.isolating;
      this.refused.isolating = true;
      return;
    }
    const topics = [...new Set(input.outputs.map((o) => o.topic))].join(', ');
    if (input.error) {
      // Its dead letter was refused too: nothing is left to write in its place.
      throw new ClientError(
        'fatal',
        refusal.code,
        `the dead-letter topic refused the dead letter of ${where(input)} (${refusal.message}); the record stays unprocessed. Check the dead-letter topic's settings (max.message.bytes, cleanup.policy).`,
        { cause: refusal },
      );
    }
    this.refused.add(input.input, `topic ${topics} refused an output: ${refusal.message}`);
    this.refusalNoted = true;
  }

  /** After a failed transaction (or a failed open): abort what is left, wait if it helps, say what to do. */
  async recover(error: unknown): Promise<Recovery> {
    const failure = error instanceof TransactionFailure ? error : undefined;
    const cause = failure?.error ?? toClientError(error);
    const log = { transactionalId: this.transactionalId, kind: cause.kind, code: cause.code, error: cause.message };
    this.ctx.metrics.transactionsAborted.inc({ kind: cause.kind });
    switch (cause.kind) {
      // a.
      case 'fatal':
        await this.discard();
        this.ctx.fail(cause);
        return 'stopped';
      // b.
      case 'fenced':
        return this.recoverFenced(cause, failure);
      // c.
      case 'membership':
        this.ctx.log.info(log, 'the group moved on (rebalance); rewinding, the new owner redoes the work');
        return this.producer ? 'redo' : 'reopen';
      // d.
      case 'refused':
        if (this.refusalNoted) {
          this.refusalNoted = false;
          this.ctx.log.warn(log, 'the broker refused an output; redoing with its input as a dead letter');
          return this.producer ? 'redo' : 'reopen';
        }
        break;
    }
    // e. and f.
    this.failures += 1;
    const keepProducer = cause.kind === 'retriable' && failure?.phase !== 'commit' && this.producer !== undefined;
    if (!keepProducer) await this.discard();
    const waitMs = backoffMs(this.failures - 1);
    this.ctx.log.warn({ ...log, phase: failure?.phase, backoffMs: waitMs }, 'transaction failed; rewinding');
    await delay(waitMs);
    return keepProducer ? 'redo' : 'reopen';
  }

  private async recoverFenced(cause: ClientError, failure: TransactionFailure | undefined): Promise<Recovery> {
    await this.discard();
    if (failure && failure.ageMs >= this.ctx.transactionTimeoutMs) {
      this.shrink(
        `a transaction outlived its timeout (${Math.round(failure.ageMs)} ms of ${this.ctx.transactionTimeoutMs} ms) and was aborted by its coordinator`,
      );
      return 'reopen';
    }
    if (this.fencing === 'partition') {
      this.ctx.log.warn(
        { transactionalId: this.transactionalId, error: cause.message },
        'producer fenced: another instance owns this partition now',
      );
      return 'fenced';
    }
    const now = Date.now();
    this.fencings = [...this.fencings.filter((at) => now - at < FENCING_WINDOW_MS), now];
    if (this.fencings.length >= MAX_FENCINGS) {
      this.ctx.fail(
        new Error(
          `the producer '${this.transactionalId}' was fenced ${MAX_FENCINGS} times in a minute, each time by a newer producer with its transactional.id: another live process runs with instance id '${this.ctx.instanceId}'. Give every instance its own --instance-id.`,
          { cause },
        ),
      );
      return 'stopped';
    }
    this.failures += 1;
    const waitMs = backoffMs(this.failures - 1);
    this.ctx.log.warn(
      { transactionalId: this.transactionalId, error: cause.message, backoffMs: waitMs },
      'producer fenced by a newer one with its transactional.id; opening it again',
    );
    await delay(waitMs);
    return 'reopen';
  }

  /** Transactions quick enough grow back towards maxBatchRecords; slow ones shrink. */
  private resize(tookMs: number): void {
    const timeout = this.ctx.transactionTimeoutMs;
    if (tookMs > timeout / 4) {
      this.shrink(`a transaction took ${Math.round(tookMs)} ms of its ${timeout} ms timeout`);
    } else if (tookMs < timeout / 20 && this.limit < this.ctx.maxBatchRecords) {
      this.limit = Math.min(this.ctx.maxBatchRecords, this.limit * 2);
    }
  }

  private shrink(why: string): void {
    this.limit = Math.max(1, Math.floor(this.limit / 2));
    this.ctx.log.warn(
      { transactionalId: this.transactionalId, recordsPerTransaction: this.limit },
      `${why}: fewer records per transaction`,
    );
  }

  private countCommitted(work: BatchWork, tookMs: number): void {
    this.resize(tookMs);
    const now = Date.now();
    const m = this.ctx.metrics;
    m.transactionsCommitted.inc();
    m.commitLatency.observe(tookMs / 1000);
    m.recordsIn.inc(work.handled.length);
    const byTopic = new Map<string, number>();
    for (const { input, outputs, error } of work.handled) {
      if (error) m.deadLetters.inc({ kind: error.kind });
      for (const { topic } of outputs) byTopic.set(topic, (byTopic.get(topic) ?? 0) + 1);
      m.endToEndLatency.observe(Math.max(0, now - input.timestamp) / 1000);
    }
    for (const [topic, count] of byTopic) m.recordsOut.inc({ topic }, count);
  }

  private async discard(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    if (producer) await producer.close();
  }

  close(): Promise<void> {
    return this.discard();
  }
}

/** Tells every participant its transaction was aborted; one that cannot clean up says so in its own way. */
async function abortAll(participants: readonly TransactionParticipant[]): Promise<void> {
  for (const participant of participants) await Promise.resolve(participant.aborted()).catch(() => {});
}

/** Anything thrown on the way, as the engine's error kinds: what no adapter classified is abortable. */
function toClientError(error: unknown): ClientError {
  if (error instanceof ClientError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ClientError('abortable', error instanceof Error ? error.name : 'UNKNOWN', message, { cause: error });
}

function where(handled: HandledRecord): string {
  const { topic, partition, offset } = handled.input;
  return `the record at ${topic} partition ${partition} offset ${offset}`;
}
