import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The engine's metrics, in a registry of their own so several processors can share one process. */
export class EngineMetrics {
  readonly registry = new Registry();
  readonly recordsIn = new Counter({
    name: 'exactly_records_in_total',
    help: 'Input records processed and committed',
    registers: [this.registry],
  });
  readonly recordsOut = new Counter({
    name: 'exactly_records_out_total',
    help: 'Output records committed, by topic',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });
  readonly deadLetters = new Counter({
    name: 'exactly_dead_letters_total',
    help: 'Input records sent to the dead-letter topic, by error kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly transactionsCommitted = new Counter({
    name: 'exactly_transactions_committed_total',
    help: 'Transactions committed',
    registers: [this.registry],
  });
  readonly transactionsAborted = new Counter({
    name: 'exactly_transactions_aborted_total',
    help: 'Transactions aborted or lost, by error kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly commitLatency = new Histogram({
    name: 'exactly_commit_latency_seconds',
    help: 'From begin to committed, per transaction',
    buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
    registers: [this.registry],
  });
  readonly endToEndLatency = new Histogram({
    name: 'exactly_end_to_end_latency_seconds',
    help: 'From the input record timestamp to the commit of its outputs',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2, 5, 10, 30],
    registers: [this.registry],
  });
  readonly lag = new Gauge({
    name: 'exactly_lag_records',
    help: 'Records between the committed position and the high watermark, by partition',
    labelNames: ['partition'] as const,
    registers: [this.registry],
  });
  readonly rebalances = new Counter({
    name: 'exactly_rebalances_total',
    help: 'Group assignments received',
    registers: [this.registry],
  });
  readonly inFlightRecords = new Gauge({
    name: 'exactly_in_flight_records',
    help: 'Input records fetched and not yet committed (bounded by the fetch size: the backpressure)',
    registers: [this.registry],
  });
  /** Highest in-flight count seen, for tests and sizing. */
  peakInFlight = 0;
  readonly restoredRecords = new Counter({
    name: 'exactly_restored_records_total',
    help: 'Changelog records read back into stores, by store',
    labelNames: ['store'] as const,
    registers: [this.registry],
  });
  readonly restoreSeconds = new Histogram({
    name: 'exactly_restore_seconds',
    help: "How long rebuilding a partition's stores from their changelogs took",
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  readonly assignedPartitions = new Gauge({
    name: 'exactly_assigned_partitions',
    help: 'Input partitions owned now',
    registers: [this.registry],
  });
  readonly queueAcknowledged = new Counter({
    name: 'exactly_queue_messages_acknowledged_total',
    help: 'Queue messages acknowledged after their commit (duplicates included)',
    registers: [this.registry],
  });
  readonly queueDuplicates = new Counter({
    name: 'exactly_queue_duplicates_total',
    help: 'Queue messages delivered again after their commit, recognised by id and not processed again',
    registers: [this.registry],
  });
  readonly queueUnacknowledged = new Gauge({
    name: 'exactly_queue_unacknowledged_messages',
    help: 'Queue messages delivered and not yet acknowledged (bounded by the prefetch)',
    registers: [this.registry],
  });
  readonly queueDelay = new Histogram({
    name: 'exactly_queue_publish_to_commit_seconds',
    help: "From a queue message's publish time (timestamp_in_ms header, or AMQP timestamp) to its commit",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30],
    registers: [this.registry],
  });
  readonly exchangeMessagesPublished = new Counter({
    name: 'exactly_exchange_messages_published_total',
    help: 'Messages published to exchange outputs and confirmed (a redone batch publishes its messages again)',
    registers: [this.registry],
  });

  /** Plain numbers for the progress line and for tests. */
  async snapshot(): Promise<MetricsSnapshot> {
    const total = async (metric: Counter | Gauge) => (await metric.get()).values.reduce((sum, v) => sum + v.value, 0);
    return {
      recordsIn: await total(this.recordsIn),
      recordsOut: await total(this.recordsOut),
      deadLetters: await total(this.deadLetters),
      transactionsCommitted: await total(this.transactionsCommitted),
      transactionsAborted: await total(this.transactionsAborted),
      lag: await total(this.lag),
      peakInFlightRecords: this.peakInFlight,
      queueAcknowledged: await total(this.queueAcknowledged),
      queueDuplicates: await total(this.queueDuplicates),
      queueUnacknowledged: await total(this.queueUnacknowledged),
      queueDelayMs: await averageMs(this.queueDelay),
      exchangeMessagesPublished: await total(this.exchangeMessagesPublished),
    };
  }
}

export interface MetricsSnapshot {
  readonly recordsIn: number;
  readonly recordsOut: number;
  readonly deadLetters: number;
  readonly transactionsCommitted: number;
  readonly transactionsAborted: number;
  readonly lag: number;
  /** Most input records held at once (fetched, not yet committed) since start. */
  readonly peakInFlightRecords: number;
  /** A queue input's messages acknowledged, duplicates recognised, in flight; mean publish-to-commit delay. */
  readonly queueAcknowledged: number;
  readonly queueDuplicates: number;
  readonly queueUnacknowledged: number;
  /** NaN before any message with a publish time committed. */
  readonly queueDelayMs: number;
  readonly exchangeMessagesPublished: number;
}

async function averageMs(histogram: Histogram): Promise<number> {
  const values = (await histogram.get()).values;
  const sum = values.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
  const count = values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
  return count === 0 ? Number.NaN : (sum / count) * 1000;
}
