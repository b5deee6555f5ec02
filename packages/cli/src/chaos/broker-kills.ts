import { setTimeout as delay } from 'node:timers/promises';
import { coordinatorOf, groupProgress, type LocalCluster } from '@exactly/testkit';

/** What a killed node was to the running processors. */
export type KilledRole = 'only node' | 'group coordinator' | 'transaction coordinator' | 'any node';

export interface BrokerKill {
  readonly nodeId: number;
  readonly role: KilledRole;
  /** When the node was killed (ISO time), to find it in the instances' logs. */
  readonly at: string;
  /** How long the node stayed down before it was started again. */
  readonly downSeconds: number;
  /**
   * From the kill until the group's committed offsets moved again (or nothing was left to process); undefined
   * when that did not happen within RECOVERY_PATIENCE_MS.
   */
  readonly recoverySeconds: number | undefined;
  /**
   * Without a recovery: what the watch saw, to tell a group that did not move from a checker that could not
   * read it (the group's progress before the kill, the last reading, and the readings that failed).
   */
  readonly watch?: RecoveryWatch;
}

interface RecoveryWatch {
  readonly before: number | undefined;
  readonly last: { readonly committed: number; readonly lag: number; readonly atSeconds: number } | undefined;
  readonly readings: number;
  readonly failedReadings: number;
  readonly lastError: string | undefined;
}

const RECOVERY_PATIENCE_MS = 90_000;
/**
 * One reading of the group's progress may take this long at most. Right after a kill one takes 5-6 s here, and the
 * checker's KafkaJS retries (10, up to 30 s apart) could keep one going for over a minute, hiding the recovery it
 * is there to see; a reading cut short is counted as failed, and the next one starts afresh.
 */
const READING_PATIENCE_MS = 10_000;

export interface BrokerKillPlan {
  readonly cluster: LocalCluster;
  readonly random: () => number;
  /** Which broker kill this is (from 0): on several nodes, kills take turns at the roles. */
  readonly turn: number;
  readonly group: string;
  readonly input: string;
  readonly partitions: number;
  /** The running instances' producers; one of them has its transaction coordinator killed. */
  readonly transactionalIds: readonly string[];
  readonly log: (line: string) => void;
}

/**
 * kill -9 of one Kafka node, then its restart. One node: the whole cluster is away for 0.5-2 s. Several: the
 * kill takes turns at the group coordinator, the transaction coordinator of a running instance's producer, and
 * any node, and the node stays down 3-8 s while the others lead. Measures how long the group takes to commit
 * again.
 */
export async function killBroker(plan: BrokerKillPlan): Promise<BrokerKill> {
  const { cluster, random } = plan;
  const brokers = cluster.brokers;
  const { nodeId, role } = await chooseVictim(plan);
  const before = await progressBefore(brokers, plan.group, plan.input);
  const killedAt = Date.now();
  await cluster.node(nodeId).kill();
  const recovery = watchRecovery(brokers, plan.group, plan.input, before?.committed, killedAt);
  const downMs = cluster.nodes.length > 1 ? 3000 + Math.floor(random() * 5000) : 500 + Math.floor(random() * 1500);
  await delay(downMs);
  await cluster.node(nodeId).start();
  const { recoverySeconds, watch } = await recovery;
  plan.log(
    `killed node ${nodeId} (${role}) for ${(downMs / 1000).toFixed(1)} s; the group committed again after ${
      recoverySeconds === undefined ? `more than ${RECOVERY_PATIENCE_MS / 1000}` : recoverySeconds.toFixed(1)
    } s${recoverySeconds === undefined ? ` (${JSON.stringify(watch)})` : ''}`,
  );
  return {
    nodeId,
    role,
    at: new Date(killedAt).toISOString(),
    downSeconds: downMs / 1000,
    recoverySeconds,
    ...(recoverySeconds === undefined ? { watch } : {}),
  };
}

async function chooseVictim(plan: BrokerKillPlan): Promise<{ nodeId: number; role: KilledRole }> {
  const { cluster, random } = plan;
  if (cluster.nodes.length === 1) return { nodeId: 1, role: 'only node' };
  const anyNode = { nodeId: 1 + Math.floor(random() * cluster.nodes.length), role: 'any node' as const };
  const turn = plan.turn % 3;
  const key =
    turn === 0 ? plan.group : (plan.transactionalIds[Math.floor(random() * plan.transactionalIds.length)] ?? '');
  if (turn === 2) return anyNode;
  const type = turn === 0 ? 'group' : 'transaction';
  const nodeId = await coordinatorOf(cluster.brokers, type, key).catch((error: unknown) => {
    plan.log(`could not find the ${type} coordinator of ${key} (${String(error)}); killing any node`);
    return undefined;
  });
  if (nodeId === undefined) {
    plan.log(`the ${type} coordinator of ${key} has no leader now; killing any node`);
    return anyNode;
  }
  return { nodeId, role: turn === 0 ? 'group coordinator' : 'transaction coordinator' };
}

/** The group's progress now, asked again for up to 30 s: without it, recovery can only be seen as lag 0. */
async function progressBefore(brokers: string, group: string, input: string) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const progress = await withPatience(groupProgress(brokers, group, input), READING_PATIENCE_MS).catch(
      () => undefined,
    );
    if (progress) return progress;
    await delay(250);
  }
  return undefined;
}

/** Seconds from `since` until the group's committed total passes `before`, or its lag is 0. */
async function watchRecovery(
  brokers: string,
  group: string,
  input: string,
  before: number | undefined,
  since: number,
): Promise<{ recoverySeconds: number | undefined; watch: RecoveryWatch }> {
  let last: RecoveryWatch['last'];
  let readings = 0;
  let failedReadings = 0;
  let lastError: string | undefined;
  while (Date.now() - since < RECOVERY_PATIENCE_MS) {
    readings += 1;
    const now = await withPatience(groupProgress(brokers, group, input), READING_PATIENCE_MS).catch(
      (error: unknown) => {
        failedReadings += 1;
        lastError = error instanceof Error ? error.message : String(error);
        return undefined;
      },
    );
    const seconds = (Date.now() - since) / 1000;
    if (now) last = { ...now, atSeconds: seconds };
    if (now && (now.lag === 0 || (before !== undefined && now.committed > before)))
      return { recoverySeconds: seconds, watch: { before, last, readings, failedReadings, lastError } };
    await delay(250);
  }
  return { recoverySeconds: undefined, watch: { before, last, readings, failedReadings, lastError } };
}

/** `promise`, or a rejection once `ms` have passed without its answer. */
async function withPatience<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  promise.catch(() => {}); // an answer after the deadline is not wanted
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
