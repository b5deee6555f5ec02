import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { dedupChangelogTopic } from '@exactly/core';
import {
  createTopics,
  declareQueueTopology,
  type LocalCluster,
  type LocalRabbitMQ,
  publishToQueue,
  type QueueOnceVerdict,
  queueReady,
  startKafka,
  startRabbitMQ,
  verifyQueueOnce,
} from '@exactly/testkit';
import { Instance } from './instances.js';
import { schedule, seededRandom } from './random.js';

export interface RabbitMQChaosOptions {
  /** Messages published to the queue (ids m-0 to m-<records - 1>). */
  readonly records: number;
  /** Processes consuming the queue: one active (single active consumer), the others standing by. */
  readonly instances: number;
  /** SIGKILLs of a random instance, restarted at once. */
  readonly kills: number;
  /** The active instance SIGSTOPped past its heartbeat timeout (another takes over), then resumed: fenced. */
  readonly zombies: number;
  /** kill -9 of the Kafka node, started again 0.5-2 s later. */
  readonly brokerKills: number;
  /** kill -9 of the RabbitMQ node, started again on its data 0.5-3 s later. */
  readonly rabbitmqKills: number;
  /** The active instance SIGKILLed inside a commit's window (EXACTLY_CRASH_AT prepared or decided). */
  readonly phaseKills: number;
  readonly seed: number;
  readonly client?: 'kafkajs' | 'platformatic';
  /** How long a zombie stays stopped: past the heartbeat timeout (10 s heartbeats: 20-30 s). Default 35 s. */
  readonly zombieMs?: number;
  readonly log?: (line: string) => void;
}

export interface RabbitMQChaosReport {
  readonly seed: number;
  /** Distinct message ids published. */
  readonly records: number;
  readonly instances: number;
  readonly events: Readonly<Record<RabbitMQChaosEvent, number>>;
  /** Phase kills that landed in their window, and those that did not (the process was SIGKILLed instead). */
  readonly phaseKills: { readonly prepared: number; readonly decided: number; readonly missed: number };
  /** The publisher's retries: messages published again (same id) because their confirm did not come. */
  readonly publisher: { readonly republished: number; readonly reconnects: number };
  /** Times the queue stopped shrinking for a minute while draining and the instances were restarted: must be 0. */
  readonly drainStalls: number;
  readonly seconds: number;
  readonly verifySeconds: number;
  readonly verdict: QueueOnceVerdict;
  readonly logs: string;
}

type RabbitMQChaosEvent = 'kill' | 'zombie' | 'broker-kill' | 'phase-kill' | 'rabbitmq-kill';

/**
 * `pnpm chaos --rabbitmq`: a queue read by several `exactly run` processes (one active at a time), each message
 * written once to a Kafka topic and published to an exchange, while a publisher with confirms publishes (again,
 * with the same id, whatever was not confirmed), processes are SIGKILLed (also inside the commit's windows) or
 * stopped past their heartbeat, and the Kafka and RabbitMQ nodes are killed. Then drains and verifies: each id
 * once in Kafka, each record's exchange message at least once, the queue empty. Everything it starts, it stops.
 */
export async function runRabbitMQChaos(options: RabbitMQChaosOptions): Promise<RabbitMQChaosReport> {
  const log = options.log ?? (() => {});
  const random = seededRandom(options.seed);
  const started = Date.now();
  const zombieMs = options.zombieMs ?? 35_000;
  const logs = await mkdtemp(join(tmpdir(), 'exactly-chaos-rabbitmq-'));
  const name = `chaos-rmq-${options.seed}-${Date.now().toString(36)}`;
  const names = {
    queue: `${name}.in`,
    out: `${name}.out`,
    exchange: `${name}.notify`,
    watch: `${name}.notify.watch`,
  };
  const instances: Instance[] = [];
  const done: Record<RabbitMQChaosEvent, number> = {
    kill: 0,
    zombie: 0,
    'broker-kill': 0,
    'phase-kill': 0,
    'rabbitmq-kill': 0,
  };
  const phaseKills = { prepared: 0, decided: 0, missed: 0 };
  const kafka = await startKafka({ localOnly: true, nodes: 1 });
  const rabbit = await startRabbitMQ({ localOnly: true }).catch(async (error: unknown) => {
    await kafka.stop();
    throw error;
  });
  try {
    const cluster: LocalCluster | undefined = kafka.cluster;
    const node: LocalRabbitMQ | undefined = rabbit.local;
    if (!cluster || !node) throw new Error('chaos needs a local Kafka and a local RabbitMQ it can kill');
    await declareQueueTopology({
      url: rabbit.url,
      queue: names.queue,
      exchange: { name: names.exchange, watch: names.watch },
    });
    await createTopics(kafka.brokers, [
      { name: names.out, partitions: 6 },
      { name: `${name}.dlq`, partitions: 6 },
      { name: dedupChangelogTopic(name, names.queue), partitions: 1, config: { 'cleanup.policy': 'compact' } },
    ]);
    for (let i = 0; i < options.instances; i++) {
      instances.push(
        new Instance({
          brokers: kafka.brokers,
          sessionTimeoutMs: 6000,
          logFile: join(logs, `instance-${i}.log`),
          client: options.client ?? 'kafkajs',
          instanceId: `slot-${i}`,
          processor: 'rabbitmq',
          // Kafka and RabbitMQ restarts can take a while on a busy machine: wait for them rather than exit.
          args: [
            '--rabbitmq',
            rabbit.url,
            '--startup-timeout',
            '300000',
            // info: takeovers and crash points in the logs, for a person to follow a run.
            '--log-level',
            process.env.EXACTLY_CHAOS_LOG_LEVEL ?? 'info',
          ],
          env: { CHAOS_GROUP: name, CHAOS_QUEUE: names.queue, CHAOS_OUT: names.out, CHAOS_EXCHANGE: names.exchange },
        }),
      );
    }
    // A supervisor, as a deployment has: an instance that exits by itself (e.g. RabbitMQ was down when it
    // started) is started again. Instances the chaos kills on purpose leave `supervised` meanwhile.
    const supervised = new Set(instances);
    const supervisor = setInterval(() => {
      for (const instance of supervised) {
        if (instance.running) continue;
        log('an instance exited by itself; starting it again');
        instance.start();
      }
    }, 2000);
    /** Takes an instance out of supervision while `act` kills and starts it. */
    const unsupervised = async (chosen: readonly Instance[], act: () => Promise<void>) => {
      for (const i of chosen) supervised.delete(i);
      try {
        await act();
      } finally {
        for (const i of chosen) {
          if (!i.running) i.start();
          supervised.add(i);
        }
      }
    };
    for (const instance of instances) instance.start();
    const plan = schedule(random, {
      kill: options.kills,
      zombie: options.zombies,
      'broker-kill': options.brokerKills,
      'phase-kill': options.phaseKills,
      'rabbitmq-kill': options.rabbitmqKills,
    });
    // Publish in step with the events (as the Kafka modes feed), so that every event meets messages in flight.
    let eventsDone = 0;
    let publishAhead = 0;
    let published = 0;
    // One share is kept for after the events, and a phase kill publishes 3/4 of a share ahead: the process it
    // restarts alone needs messages to reach its commit window, even at the last event.
    const share = () => Math.min(1, (eventsDone + 1 + publishAhead) / (plan.length + 2));
    const publishing = publishToQueue({
      url: rabbit.url,
      queue: names.queue,
      count: options.records,
      share,
      progress: (n) => (published = n),
      log,
    });
    publishing.catch(() => {});
    const progress = setInterval(() => {
      void queueReady(rabbit.url, names.queue).then(
        (ready) =>
          log(
            `published ${published}/${options.records}, ready in the queue ${ready}, events ${JSON.stringify(done)} (${Math.round((Date.now() - started) / 1000)} s)`,
          ),
        () => {},
      );
    }, 5000);
    const pick = () => instances[Math.floor(random() * instances.length)] as Instance;
    /** Makes `chosen` the active consumer: the others are killed (it is the only one left) and started again. */
    const makeActive = (chosen: Instance) => {
      const others = instances.filter((i) => i !== chosen);
      return unsupervised(others, async () => {
        await Promise.all(others.map((i) => i.kill()));
        await delay(1000);
      });
    };
    let publisher: { republished: number; reconnects: number };
    let drainStalls = 0;
    try {
      for (const { event, pauseMs } of plan) {
        await delay(pauseMs);
        switch (event) {
          case 'kill': {
            const instance = pick();
            await unsupervised([instance], () => instance.kill());
            break;
          }
          case 'zombie': {
            const instance = pick();
            await makeActive(instance);
            await delay(2000); // deliveries in its hands
            instance.signal('SIGSTOP');
            log(`zombie: an instance stopped for ${zombieMs / 1000} s`);
            await delay(zombieMs);
            instance.signal('SIGCONT');
            break;
          }
          case 'phase-kill': {
            // Alone, the restarted instance is the active consumer: it dies at its n-th commit window.
            const point = done['phase-kill'] % 2 === 0 ? 'prepared' : 'decided';
            const slot = Math.floor(random() * instances.length);
            const instance = instances[slot] as Instance;
            const logFile = join(logs, `instance-${slot}.log`);
            await unsupervised(instances, async () => {
              await Promise.all(instances.map((i) => i.kill()));
              const before = await crashesIn(logFile);
              instance.start({ EXACTLY_CRASH_AT: `${point}:${1 + Math.floor(random() * 2)}` });
              publishAhead = 0.75;
              // Landed: it exited, having said it reached the point (not, say, for want of a broker).
              const exited = await instance.exitsWithin(30_000);
              await delay(300);
              const landed = exited && (await crashesIn(logFile)) > before;
              publishAhead = 0;
              if (landed) phaseKills[point] += 1;
              else {
                phaseKills.missed += 1;
                log(`phase kill at ${point}: the instance did not reach it within 30 s`);
                await instance.kill();
              }
            });
            break;
          }
          case 'rabbitmq-kill': {
            await node.kill();
            const downMs = 500 + Math.floor(random() * 2500);
            await delay(downMs);
            await node.start();
            log(`killed the RabbitMQ node for ${(downMs / 1000).toFixed(1)} s`);
            break;
          }
          case 'broker-kill': {
            await cluster.node(1).kill();
            const downMs = 500 + Math.floor(random() * 1500);
            await delay(downMs);
            await cluster.node(1).start();
            log(`killed the Kafka node for ${(downMs / 1000).toFixed(1)} s`);
            break;
          }
        }
        done[event] += 1;
        eventsDone += 1;
      }
      publishAhead = plan.length + 2;
      const result = await publishing;
      publisher = { republished: result.republished, reconnects: result.reconnects };
      published = result.published;
      log(`all events done, ${published} messages published (${result.republished} again); draining`);
      drainStalls = await drain(rabbit.url, names.queue, log, {
        stop: async () => {
          supervised.clear();
          await Promise.all(instances.map((i) => i.stop()));
        },
        start: () => {
          for (const instance of instances) {
            instance.start();
            supervised.add(instance);
          }
        },
      });
    } finally {
      clearInterval(progress);
      clearInterval(supervisor);
    }
    await Promise.all(instances.map((i) => i.stop()));
    log('drained; verifying');
    const verifyStarted = Date.now();
    const verdict = await verifyQueueOnce({
      brokers: kafka.brokers,
      url: rabbit.url,
      processorId: name,
      queue: names.queue,
      output: names.out,
      published,
      exchange: { output: 'notify', watch: names.watch },
    });
    return {
      seed: options.seed,
      records: published,
      instances: options.instances,
      events: done,
      phaseKills,
      publisher,
      drainStalls,
      seconds: Math.round((Date.now() - started) / 1000),
      verifySeconds: (Date.now() - verifyStarted) / 1000,
      verdict,
      logs,
    };
  } finally {
    await Promise.all(instances.map((i) => i.kill()));
    for (const instance of instances) instance.close();
    await kafka.stop();
    await rabbit.stop();
  }
}

/** How many times an instance's log says it reached its crash point. */
async function crashesIn(logFile: string): Promise<number> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  return text.split('reached; SIGKILL').length - 1;
}

/**
 * Waits until the queue has been empty for 3 s, then stops the instances (the active one finishes its batch;
 * deliveries it held go back to the queue) and looks again: started again while anything is left. When the queue
 * does not shrink for `stallMs`, the instances are stopped and started again, and that is counted: a stall is a
 * finding (e.g. processes that never got past start-up), to be looked at in their logs.
 */
async function drain(
  url: string,
  queue: string,
  log: (line: string) => void,
  instances: { stop(): Promise<void>; start(): void },
  stallMs = 60_000,
): Promise<number> {
  const deadline = Date.now() + 600_000;
  let stalls = 0;
  for (let round = 0; ; round++) {
    let emptySince: number | undefined;
    let lowest = Number.POSITIVE_INFINITY;
    let progressAt = Date.now();
    let stalled = false;
    while (Date.now() < deadline) {
      const ready = await queueReady(url, queue).catch(() => -1);
      if (ready >= 0 && ready < lowest) {
        lowest = ready;
        progressAt = Date.now();
      }
      if (ready === 0) emptySince ??= Date.now();
      else emptySince = undefined;
      if (emptySince !== undefined && Date.now() - emptySince >= 3000) break;
      if (Date.now() - progressAt >= stallMs) {
        stalled = true;
        break;
      }
      await delay(250);
    }
    await instances.stop();
    const left = await queueReady(url, queue).catch(() => -1);
    if (!stalled && (left === 0 || Date.now() >= deadline || round >= 20)) {
      if (left !== 0) log(`${left} message(s) still in the queue after draining`);
      return stalls;
    }
    if (stalled) {
      stalls += 1;
      log(`STALL: ${left} message(s) in the queue and none consumed for ${stallMs / 1000} s; restarting the instances`);
    } else log(`${left} message(s) went back to the queue at the stop; consuming again`);
    instances.start();
  }
}
