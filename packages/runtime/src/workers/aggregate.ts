import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, Registry } from 'prom-client';
import type { MetricsSnapshot } from '../observability/metrics.js';

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/**
 * The whole's metrics, as one registry: on each read, every worker's metrics (and the supervisor's own) are
 * gathered and summed per metric and label set (counters, gauges, histogram buckets), so that `/metrics` and
 * `registry` look like those of one process.
 */
export class WorkersRegistry extends Registry {
  constructor(private readonly gather: () => Promise<MetricsJson[]>) {
    super();
  }

  override async metrics(): Promise<string> {
    return AggregatorRegistry.aggregate(await this.gather()).metrics();
  }

  override async getMetricsAsJSON(): Promise<MetricsJson> {
    return AggregatorRegistry.aggregate(await this.gather()).getMetricsAsJSON();
  }
}

/** The whole's counters: each worker's summed (a peak is the sum of the workers' peaks, an upper bound). */
export function sumSnapshots(snapshots: readonly MetricsSnapshot[]): MetricsSnapshot {
  const sum = (key: Exclude<keyof MetricsSnapshot, 'queueDelayMs'>) =>
    snapshots.reduce((total, s) => total + s[key], 0);
  const delays = snapshots.map((s) => s.queueDelayMs).filter((d) => !Number.isNaN(d));
  return {
    recordsIn: sum('recordsIn'),
    recordsOut: sum('recordsOut'),
    deadLetters: sum('deadLetters'),
    transactionsCommitted: sum('transactionsCommitted'),
    transactionsAborted: sum('transactionsAborted'),
    lag: sum('lag'),
    peakInFlightRecords: sum('peakInFlightRecords'),
    queueAcknowledged: sum('queueAcknowledged'),
    queueDuplicates: sum('queueDuplicates'),
    queueUnacknowledged: sum('queueUnacknowledged'),
    queueDelayMs: delays.length === 0 ? Number.NaN : delays.reduce((a, b) => a + b, 0) / delays.length,
    exchangeMessagesPublished: sum('exchangeMessagesPublished'),
  };
}
