import { compatibilityPartitioner, type MessageToProduce, type RetryDelayGetter } from '@platformatic/kafka';

/** Where the adapter's clients connect, and how they name themselves. */
export interface PlatformaticConnection {
  readonly brokers: readonly string[];
  readonly clientId: string;
}

/**
 * The client's back-off between retries. Its default (1 s for everything) made every transaction that met
 * CONCURRENT_TRANSACTIONS (normal right after a commit, while the broker writes the markers) cost a second:
 * a tenth of the throughput in our measurements. That case is retried after 10 ms, as the Java client does
 * (~20 ms); everything else backs off from 50 ms, doubling, to 1 s.
 */
export const retryDelay: RetryDelayGetter = (_client, _operation, attempt, _retries, error) =>
  backoffMs(Math.max(0, attempt - 1), /CONCURRENT_TRANSACTIONS/.test(describe(error)));

/** The wait before retry number `retry` (from 0), by the policy above; also for the adapter's own requests. */
export function backoffMs(retry: number, concurrentTransactions: boolean): number {
  return concurrentTransactions ? 10 : Math.min(1000, 50 * 2 ** retry);
}

function describe(error: Error): string {
  const nested = (error as { errors?: unknown[] }).errors ?? [];
  return [(error as { apiId?: string }).apiId ?? '', error.message, ...nested.map((e) => describe(e as Error))].join(
    ' ',
  );
}

/** Options every client of the adapter shares. */
export function baseOptions(connection: PlatformaticConnection, role: string) {
  return {
    clientId: `${connection.clientId}-${role}`,
    bootstrapBrokers: [...connection.brokers],
    retries: 10,
    retryDelay,
  };
}

let roundRobin = 0;

/** The Java client's partitioner for keyed records (murmur2), so a key lands where any Kafka client puts it. */
export function partitionOf(message: MessageToProduce, key: Buffer | undefined): number {
  if (key) return compatibilityPartitioner(message, key);
  roundRobin = (roundRobin + 1) % 0x7fffffff; // records without a key spread over the partitions
  return roundRobin;
}
