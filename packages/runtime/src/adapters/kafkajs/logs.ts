import type { AdapterLog } from '../../port/client.js';

export type AdapterLogLevel = Parameters<AdapterLog>[0];

/**
 * KafkaJS's log lines, reweighed for a transactional engine. Returns undefined to drop a line.
 * - "Limiting retries for the idempotent producer may invalidate EoS": not for us. Every failed send aborts its
 *   transaction and the batch is redone from the committed offset, so a bounded retry loses nothing.
 * - The partitioner notice is about KafkaJS 1.x users; we choose the Java-compatible partitioner explicitly.
 * - A rebalance is routine: KafkaJS logs it as an error.
 */
export function reweigh(level: AdapterLogLevel, message: string): AdapterLogLevel | undefined {
  if (/Limiting retries for the idempotent producer|switched default partitioner/.test(message)) return undefined;
  if (/group is rebalancing|rejoin is needed|The coordinator is loading|Response Heartbeat/.test(message))
    return 'debug';
  return level;
}
