import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { changelogTopic } from '@exactly/core';
import {
  amountOf,
  createTopics,
  groupLag,
  type Kafka,
  type LocalCluster,
  type Postgres,
  type RunningTotalsVerdict,
  readTopic,
  startKafka,
  startPostgres,
  testClient,
  type Verdict,
  verifyExactlyOnce,
  verifyRunningTotals,
  waitForGroupCaughtUp,
} from '@exactly/testkit';
import type pg from 'pg';
import { type BrokerKill, killBroker } from './broker-kills.js';
import { Instance } from './instances.js';
import { type ChaosEvent, schedule, seededRandom } from './random.js';

export interface ChaosOptions {
  readonly records: number;
  readonly partitions: number;
  readonly instances: number;
  readonly kills: number;
  readonly zombies: number;
  readonly brokerKills: number;
  /** Clean restarts (SIGTERM, then start again). */
  readonly restarts: number;
  readonly seed: number;
  /**
   * Kafka nodes. Default 1 (a broker kill stops the whole cluster for a moment). With 3, broker kills take
   * turns at the group coordinator, the transaction coordinator of a running instance, and any node, and the
   * killed node stays down for a few seconds while the others take over.
   */
  readonly nodes?: number;
  /**
   * Run a stateful processor instead of the fan-out: a running total per account in a store (inputs over
   * `accounts` accounts), checked by the state verifier as well. `localState`: each slot keeps local copies
   * of its stores in a state directory of its own, which its restarts reuse.
   */
  readonly stateful?: { readonly accounts: number; readonly localState?: boolean };
  /**
   * Run a processor that writes each input as a record and as a PostgreSQL row (two-phase commit), on a local
   * PostgreSQL of its own, checked by the verifier's table check. Adds `phaseKills` SIGKILLs timed inside the
   * commit's windows (after PREPARE, or after Kafka's commit: EXACTLY_CRASH_AT) and `crashes` PostgreSQL crashes.
   */
  readonly postgres?: { readonly phaseKills: number; readonly crashes: number };
  /** The client adapter the processors run on. Default 'kafkajs'. */
  readonly client?: 'kafkajs' | 'platformatic';
  /**
   * Worker processes per instance (`exactly run --workers`). With more than one, kills take turns at one worker
   * (its supervisor restarts it) and at the whole instance (supervisor and workers at once), and a zombie is one
   * worker paused. Default 1.
   */
  readonly workers?: number;
  /** A member silent this long loses its partitions; zombies are stopped 2 s longer than this. */
  readonly sessionTimeoutMs?: number;
  /**
   * Local Kafka nodes of the caller's to run on (`nodes` of them), instead of starting and stopping its own: the
   * run kills and restarts them, and leaves them running. Runs in a row (CI's profiles) then pay for one start.
   */
  readonly kafka?: Kafka;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

export interface ChaosReport {
  readonly seed: number;
  readonly records: number;
  readonly partitions: number;
  readonly instances: number;
  readonly nodes: number;
  readonly events: Readonly<Record<Exclude<ChaosEvent, 'rabbitmq-kill'>, number>>;
  /** Each broker kill: which node, which role it had, and how long until the group committed again. */
  readonly brokerKills: readonly BrokerKill[];
  readonly seconds: number;
  readonly abortedInLog: number;
  /** How long the verifier took to read and check every topic. */
  readonly verifySeconds: number;
  /** Ids the feeder had acknowledged that are not in the input topic: the harness's own check, must be 0. */
  readonly inputsLost: number;
  /** With `stateful`: the state check (each account's totals, in order, each the right sum). */
  readonly totals?: RunningTotalsVerdict;
  /** With `stateful`: whether the slots kept local copies of their stores (--state-dir). */
  readonly localState?: boolean;
  /** Worker processes per instance, when more than one. */
  readonly workers?: number;
  /** With `workers`: the kills that hit one worker, and those that hit a whole instance. */
  readonly workerKills?: { readonly one: number; readonly whole: number };
  /** With `postgres`: phase kills that landed in their window (the process reached it and died there). */
  readonly phaseKills?: { readonly prepared: number; readonly decided: number; readonly missed: number };
  readonly verdict: Verdict;
  readonly logs: string;
}

/**
 * Feeds records with unique ids while processors are SIGKILLed, SIGSTOPped past their session timeout (then
 * resumed), restarted cleanly, and the broker is killed with SIGKILL and restarted; then drains and verifies.
 * Modelled on Apache Kafka's transactions system test. Everything it starts, it stops.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => {});
  const random = seededRandom(options.seed);
  const sessionTimeoutMs = options.sessionTimeoutMs ?? 6000;
  const started = Date.now();
  const logs = await mkdtemp(join(tmpdir(), 'exactly-chaos-'));
  const nodes = options.nodes ?? 1;
  const kafka = options.kafka ?? (await startKafka({ localOnly: true, nodes }));
  const cluster: LocalCluster | undefined = kafka.cluster;
  if (!cluster || cluster.nodes.length !== nodes)
    throw new Error(`chaos needs ${nodes} local Kafka node(s) it can kill (got ${kafka.kind} at ${kafka.brokers})`);
  const brokerKills: BrokerKill[] = [];
  const client = options.client ?? 'kafkajs';
  const name = `chaos-${options.seed}-${Date.now().toString(36)}`;
  const topics = { input: `${name}.in`, left: `${name}.left`, right: `${name}.right` };
  const stateful = options.stateful;
  const postgres = options.postgres;
  // The stateful processor writes one output ("left") and keeps its store's changelog; the PostgreSQL one
  // writes "left" and a row.
  const outputs = stateful || postgres ? [topics.left] : [topics.left, topics.right];
  const rowsTable = `chaos_rows_${options.seed}_${Date.now().toString(36)}`;
  const extraTopics = stateful
    ? [
        {
          name: changelogTopic(name, 'totals'),
          partitions: options.partitions,
          config: { 'cleanup.policy': 'compact' },
        },
      ]
    : [];
  const instances: Instance[] = [];
  const done = { kill: 0, zombie: 0, 'broker-kill': 0, restart: 0, 'phase-kill': 0, 'postgres-crash': 0 };
  const phaseKills = { prepared: 0, decided: 0, missed: 0 };
  const workers = options.workers ?? 1;
  if (workers > 1 && (postgres?.phaseKills ?? 0) > 0)
    throw new Error('phase kills set a crash point that every worker would hit: run them without --workers');
  const workerKills = { one: 0, whole: 0 };
  let database: Postgres | undefined;
  let fed = 0;
  try {
    if (postgres) {
      database = await startPostgres({ localOnly: true });
      await withDatabase(database.url, (db) =>
        db.query(
          `CREATE TABLE ${rowsTable} (id bigint NOT NULL, source_partition int NOT NULL, source_offset bigint NOT NULL)`,
        ),
      );
    }
    await createTopics(kafka.brokers, [
      ...[topics.input, ...outputs, `${name}.dlq`].map((t) => ({ name: t, partitions: options.partitions })),
      ...extraTopics,
    ]);
    for (let i = 0; i < options.instances; i++) {
      const instance = new Instance({
        brokers: kafka.brokers,
        sessionTimeoutMs,
        logFile: join(logs, `instance-${i}.log`),
        client,
        instanceId: `slot-${i}`,
        workers,
        processor: stateful ? 'totals' : postgres ? 'copier-pg' : 'copier',
        ...(stateful?.localState ? { stateDir: join(logs, `state-slot-${i}`) } : {}),
        env: {
          CHAOS_GROUP: name,
          CHAOS_INPUT: topics.input,
          CHAOS_LEFT: topics.left,
          CHAOS_RIGHT: topics.right,
          ...(database ? { CHAOS_TABLE: rowsTable, DATABASE_URL: database.url } : {}),
        },
      });
      instance.start();
      instances.push(instance);
    }
    const plan = schedule(random, {
      kill: options.kills,
      zombie: options.zombies,
      'broker-kill': options.brokerKills,
      restart: options.restarts,
      'phase-kill': postgres?.phaseKills ?? 0,
      'postgres-crash': postgres?.crashes ?? 0,
    });
    // Feed in step with the events, so that every event meets records in flight: before event k (of n), up to
    // (k + 1) / (n + 1) of the records; the rest once the events are over.
    let eventsDone = 0;
    /** Set while a phase kill waits for its process to reach a commit window: that needs records to flow. */
    let feedAhead = 0;
    const share = () => Math.min(1, (eventsDone + 1 + feedAhead) / (plan.length + 1));
    const message = stateful
      ? (id: number) => ({
          key: `account-${id % stateful.accounts}`,
          value: JSON.stringify({ id, amount: amountOf(id) }),
        })
      : (id: number) => ({ key: `key-${id}`, value: JSON.stringify({ id }) });
    const feeding = feed(kafka.brokers, topics.input, options.records, share, (n) => (fed = n), message);
    const progress = setInterval(() => {
      void groupLag(kafka.brokers, name, topics.input).then(
        (lag) =>
          log(
            `fed ${fed}/${options.records}, lag ${lag}, events ${JSON.stringify(done)} (${Math.round((Date.now() - started) / 1000)} s)`,
          ),
        () => {},
      );
    }, 5000);
    try {
      for (const { event, pauseMs } of plan) {
        await delay(pauseMs);
        const instance = instances[Math.floor(random() * instances.length)] as Instance;
        switch (event) {
          case 'kill': {
            const pids = instance.workerPids();
            // With workers: every other kill is one worker's, which its supervisor restarts.
            if (pids.length > 0 && done.kill % 2 === 0) {
              process.kill(pids[Math.floor(random() * pids.length)] as number, 'SIGKILL');
              workerKills.one += 1;
            } else {
              await instance.kill();
              if (workers > 1) workerKills.whole += 1;
              instance.start();
            }
            break;
          }
          case 'restart':
            await instance.stop();
            instance.start();
            break;
          case 'phase-kill': {
            // The n-th commit window after a restart: the process SIGKILLs itself there (EXACTLY_CRASH_AT).
            const point = done['phase-kill'] % 2 === 0 ? 'prepared' : 'decided';
            await instance.kill();
            instance.start({ EXACTLY_CRASH_AT: `${point}:${1 + Math.floor(random() * 2)}` });
            feedAhead = 2;
            const landed = await instance.exitsWithin(15_000);
            feedAhead = 0;
            if (landed) phaseKills[point] += 1;
            else {
              phaseKills.missed += 1;
              await instance.kill();
            }
            instance.start();
            break;
          }
          case 'postgres-crash': {
            const local = database?.local;
            if (!local) throw new Error('unreachable: postgres-crash without a local PostgreSQL');
            await local.crash();
            await delay(500 + Math.floor(random() * 2500));
            await local.start();
            break;
          }
          case 'zombie': {
            // With workers, one of them: its supervisor and siblings go on, and it must not commit once resumed.
            const pids = instance.workerPids();
            const pause = (signal: NodeJS.Signals) => {
              const pid = pids[0];
              if (pid === undefined) instance.signal(signal);
              else
                try {
                  process.kill(pid, signal);
                } catch {
                  // the worker is gone (restarted meanwhile): nothing to pause or resume
                }
            };
            pause('SIGSTOP');
            await delay(sessionTimeoutMs + 2000);
            pause('SIGCONT');
            break;
          }
          case 'broker-kill':
            brokerKills.push(
              await killBroker({
                cluster,
                random,
                turn: done['broker-kill'],
                group: name,
                input: topics.input,
                partitions: options.partitions,
                transactionalIds: transactionalIdsOf(
                  client,
                  name,
                  topics.input,
                  options.partitions,
                  instances.length,
                  workers,
                ),
                log,
              }),
            );
            break;
        }
        done[event] += 1;
        eventsDone += 1;
      }
      await feeding;
      log(`all ${done.kill + done.zombie + done['broker-kill'] + done.restart} events done; draining`);
      await waitForGroupCaughtUp(kafka.brokers, name, topics.input, 300_000);
      // Drained, with PostgreSQL, also means: what a killed owner left prepared has been resolved by the next
      // owner of its partitions (after a rebalance). One still there after the wait is a verdict's failure.
      if (database) await waitForNoPrepared(database.url, 120_000, log);
    } finally {
      clearInterval(progress);
    }
    await Promise.all(instances.map((i) => i.stop()));
    log('drained; verifying');
    const verifyStarted = Date.now();
    const verdict = await verifyExactlyOnce({
      brokers: kafka.brokers,
      input: topics.input,
      outputs,
      ...(database ? { tables: [{ url: database.url, table: rowsTable }] } : {}),
    });
    const totals = stateful
      ? await verifyRunningTotals({ brokers: kafka.brokers, input: topics.input, output: topics.left })
      : undefined;
    const verifySeconds = (Date.now() - verifyStarted) / 1000;
    const inputsLost = await lostInputs(kafka.brokers, topics.input, fed);
    return {
      seed: options.seed,
      records: fed,
      partitions: options.partitions,
      instances: options.instances,
      nodes,
      events: done,
      brokerKills,
      seconds: Math.round((Date.now() - started) / 1000),
      abortedInLog: verdict.outputs.reduce((n, o) => n + o.abortedInLog, 0),
      verifySeconds,
      inputsLost,
      ...(totals ? { totals, localState: stateful?.localState === true } : {}),
      ...(postgres ? { phaseKills } : {}),
      ...(workers > 1 ? { workers, workerKills } : {}),
      verdict: totals && !totals.ok ? { ...verdict, ok: false } : verdict,
      logs,
    };
  } finally {
    await Promise.all(instances.map((i) => i.kill()));
    for (const instance of instances) instance.close();
    if (!options.kafka) await kafka.stop();
    await database?.stop();
  }
}

/** Waits until the database holds no prepared transaction of Exactly's, or `timeoutMs` has passed. */
async function waitForNoPrepared(url: string, timeoutMs: number, log: (line: string) => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = await withDatabase(url, async (db) => {
      const { rows } = await db.query("SELECT count(*)::int AS n FROM pg_prepared_xacts WHERE gid LIKE 'exactly:%'");
      return (rows[0] as { n: number }).n;
    }).catch(() => -1); // restarting: look again
    if (left === 0) return;
    if (Date.now() >= deadline) {
      log(`${left} prepared transaction(s) still unresolved after ${timeoutMs} ms`);
      return;
    }
    await delay(500);
  }
}

/** pg is loaded here only: chaos runs in a clone of the repository, where it is installed. */
async function withDatabase<T>(url: string, use: (db: pg.Client) => Promise<T>): Promise<T> {
  const { default: postgresClient } = await import('pg');
  const db = new postgresClient.Client({ connectionString: url });
  await db.connect();
  try {
    return await use(db);
  } finally {
    await db.end();
  }
}

/**
 * The transactional.ids of the running instances' producers: one per instance (`<group>.<instance>`) with
 * platformatic (per worker, `<group>.<instance>-w<k>`, with workers), one per input partition
 * (`<group>.<topic>.<partition>`) with kafkajs.
 */
function transactionalIdsOf(
  client: string,
  group: string,
  input: string,
  partitions: number,
  instances: number,
  workers: number,
): string[] {
  if (client !== 'platformatic') return Array.from({ length: partitions }, (_, p) => `${group}.${input}.${p}`);
  const slots = Array.from({ length: instances }, (_, i) => `${group}.slot-${i}`);
  return workers > 1 ? slots.flatMap((slot) => Array.from({ length: workers }, (_, k) => `${slot}-w${k + 1}`)) : slots;
}

/** Ids 0 to `fed` - 1 that the input topic does not hold. */
async function lostInputs(brokers: string, topic: string, fed: number): Promise<number> {
  const found = new Set<number>();
  for (const record of await readTopic(brokers, topic, { isolation: 'read_uncommitted' })) {
    found.add((JSON.parse(record.value?.toString() ?? '{}') as { id: number }).id);
  }
  let lost = 0;
  for (let id = 0; id < fed; id++) if (!found.has(id)) lost++;
  return lost;
}

/** Writes `count` records `{ id }`, at most `share()` of them at any moment, riding out broker restarts. */
async function feed(
  brokers: string,
  topic: string,
  count: number,
  share: () => number,
  progress: (fed: number) => void,
  message: (id: number) => { key: string; value: string },
): Promise<void> {
  // KafkaJS loaded by @exactly/read-committed, whose send no longer drops a partition whose leader moved mid-send
  // (KafkaJS's own lost 164 of 20,000 ids on 3 nodes, seed 7); lostInputs() checks that the feed is whole.
  const producer = testClient(brokers, 'exactly-chaos-feeder').producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const chunk = 500;
  try {
    for (let first = 0; first < count; first += chunk) {
      while (first >= share() * count) await delay(20);
      const messages = [];
      for (let id = first; id < Math.min(first + chunk, count); id++) messages.push(message(id));
      for (;;) {
        try {
          await producer.send({ topic, messages });
          break;
        } catch {
          await delay(500); // the broker is being restarted: try the same chunk again
        }
      }
      progress(Math.min(first + chunk, count));
    }
  } finally {
    await producer.disconnect().catch(() => {});
  }
}
