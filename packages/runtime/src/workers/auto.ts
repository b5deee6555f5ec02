import { availableParallelism } from 'node:os';

/**
 * `workers: 'auto'`: one per core this process may use, and no more than the input's partitions (a member
 * without a partition would only stand by).
 */
export function autoWorkers(partitions: number, cores = availableParallelism()): number {
  return Math.max(1, Math.min(cores, partitions));
}
