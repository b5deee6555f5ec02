import { type Kafka, startKafka } from '@exactly/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { CLIENTS } from '../../runtime/test/helpers.js';
import { runChaos } from '../src/chaos/run-chaos.js';
import { runRabbitMQChaos } from '../src/chaos/run-rabbitmq-chaos.js';
import { chaosDiagnosis } from './chaos-diagnosis.js';

/**
 * Local Kafka nodes for the profiles below, started once per node count and shared by the runs in turn (each
 * kills and restarts them, on topics, a group and transactional ids of its own): a start is ~10 s.
 */
const clusters = new Map<number, Promise<Kafka>>();
function chaosKafka(nodes: number): Promise<Kafka> {
  let kafka = clusters.get(nodes);
  if (!kafka) {
    kafka = startKafka({ localOnly: true, nodes });
    clusters.set(nodes, kafka);
  }
  return kafka;
}
afterAll(async () => {
  for (const kafka of clusters.values()) await (await kafka.catch(() => undefined))?.stop();
}, 120_000);

// CI's chaos profile (docs/reliability.md has the full one), sized to keep CI under 20 minutes, on the brokers
// above (apart from the other tests', since it kills them). On the default client each instance runs 2 workers
// (--workers 2): kills take turns at one worker and at a whole instance, and a zombie is one worker paused.
describe.each(CLIENTS)(
  'chaos on %s: processors killed, stopped and restarted, the broker killed, while records flow',
  (client) => {
    const workers = client === 'platformatic' ? 2 : 1;
    it(`16,000 records, 6 SIGKILLs, 2 zombies, 2 broker kill -9, 1 clean restart, ${workers} worker(s) per instance: exactly once`, async () => {
      const seed = Number(process.env.EXACTLY_CHAOS_SEED ?? 20261125);
      const report = await runChaos({
        kafka: await chaosKafka(1),
        workers,
        records: 16_000,
        partitions: 6,
        instances: 3,
        kills: 6,
        zombies: 2,
        brokerKills: 2,
        restarts: 1,
        seed,
        client,
        log: (line) => console.log(`[chaos ${client} seed ${seed}] ${line}`),
      });
      const { verdict } = report;
      console.log(
        `[chaos ${client} seed ${seed}] ${JSON.stringify({ ...report, verdict: { ...verdict, outputs: undefined } })}`,
      );
      expect(report.events).toEqual({
        kill: 6,
        zombie: 2,
        'broker-kill': 2,
        restart: 1,
        'phase-kill': 0,
        'postgres-crash': 0,
      });
      expect(verdict.inputs).toBeGreaterThanOrEqual(16_000); // a resend after a broker kill may add an input
      expect(verdict, chaosDiagnosis(report)).toMatchObject({
        ok: true,
        missing: 0,
        duplicated: 0,
        abortedRead: 0,
        orderViolations: 0,
        orphans: 0,
      });
      expect(verdict.outputs.map((o) => o.committedUnread)).toEqual([0, 0]);
      expect(report.inputsLost).toBe(0);
      if (workers > 1) {
        expect(report.workerKills?.one).toBeGreaterThanOrEqual(1);
        expect(report.workerKills?.whole).toBeGreaterThanOrEqual(1);
      }
    }, 600_000);
  },
);

// The same on a 3-node cluster (replication 3, min.insync 2), where broker kills hit the group coordinator and
// a transaction coordinator of the running processors while the other nodes take over.
describe.each(CLIENTS)('chaos on %s, 3 Kafka nodes: coordinators killed while records flow', (client) => {
  it('12,000 records, 3 SIGKILLs, a zombie, 3 node kill -9 (group coordinator, transaction coordinator, any): exactly once, committing again within 30 s', async () => {
    const seed = Number(process.env.EXACTLY_CHAOS_SEED ?? 20261130);
    const report = await runChaos({
      kafka: await chaosKafka(3),
      records: 12_000,
      partitions: 6,
      instances: 3,
      kills: 3,
      zombies: 1,
      brokerKills: 3,
      restarts: 1,
      seed,
      client,
      nodes: 3,
      log: (line) => console.log(`[chaos 3 nodes ${client} seed ${seed}] ${line}`),
    });
    const { verdict } = report;
    console.log(
      `[chaos 3 nodes ${client} seed ${seed}] ${JSON.stringify({ ...report, verdict: { ...verdict, outputs: undefined } })}`,
    );
    expect(verdict, chaosDiagnosis(report)).toMatchObject({
      ok: true,
      missing: 0,
      duplicated: 0,
      abortedRead: 0,
      orderViolations: 0,
    });
    expect(verdict.inputs).toBeGreaterThanOrEqual(12_000);
    expect(report.inputsLost).toBe(0);
    const roles = report.brokerKills.map((k) => k.role);
    expect(roles).toContain('group coordinator');
    expect(roles).toContain('transaction coordinator');
    const slow = report.brokerKills.filter((k) => k.recoverySeconds === undefined || k.recoverySeconds > 30);
    expect(slow, slow.length > 0 ? chaosDiagnosis(report) : '').toEqual([]);
  }, 600_000);
});

// The stateful profile: a running total per account in a store, while processors and the broker are killed.
// Besides exactly-once outputs, every total must be its account's sum so far (no store change lost or doubled).
// kafkajs keeps its stores in memory; platformatic keeps local copies (--state-dir), which its restarts and
// returning zombies restore from.
describe.each(CLIENTS)(
  'chaos on %s, stateful: running totals in a store while processors and the broker die',
  (client) => {
    const localState = client === 'platformatic';
    it('8,000 records over 1,000 accounts, 3 SIGKILLs, a zombie, 2 broker kill -9: every total right, once', async () => {
      const seed = Number(process.env.EXACTLY_CHAOS_SEED ?? 20261130);
      const report = await runChaos({
        kafka: await chaosKafka(1),
        records: 8_000,
        partitions: 6,
        instances: 3,
        kills: 3,
        zombies: 1,
        brokerKills: 2,
        restarts: 1,
        seed,
        client,
        stateful: { accounts: 1000, localState },
        log: (line) => console.log(`[chaos stateful ${client} seed ${seed}] ${line}`),
      });
      const { verdict, totals } = report;
      console.log(
        `[chaos stateful ${client} seed ${seed}] ${JSON.stringify({ ...report, verdict: { ...verdict, outputs: undefined } })}`,
      );
      expect(verdict, chaosDiagnosis(report)).toMatchObject({
        ok: true,
        missing: 0,
        duplicated: 0,
        abortedRead: 0,
        orderViolations: 0,
      });
      expect(totals).toMatchObject({ ok: true, keys: 1000, wrongTotals: 0, duplicated: 0, missing: 0 });
      expect(report.inputsLost).toBe(0);
      expect(report.localState).toBe(localState);
    }, 600_000);
  },
);

// The PostgreSQL profile: each input a record and a row, committed together by two-phase commit, while
// processors are killed (also inside the commit's windows: after PREPARE, after Kafka's commit), PostgreSQL
// crashes, a zombie returns and the broker dies. docs/reliability.md has the full profile.
describe.each(CLIENTS)('chaos on %s, with PostgreSQL: rows and records once, together', (client) => {
  it('6,000 records, 3 SIGKILLs and 2 timed between the phases, a zombie, a broker kill -9, a PostgreSQL crash: each row once, exactly when its record is visible, nothing left prepared', async () => {
    const seed = Number(process.env.EXACTLY_CHAOS_SEED ?? 20261130);
    const report = await runChaos({
      kafka: await chaosKafka(1),
      records: 6_000,
      partitions: 6,
      instances: 3,
      kills: 3,
      zombies: 1,
      brokerKills: 1,
      restarts: 0,
      seed,
      client,
      postgres: { phaseKills: 2, crashes: 1 },
      log: (line) => console.log(`[chaos postgres ${client} seed ${seed}] ${line}`),
    });
    const { verdict } = report;
    console.log(
      `[chaos postgres ${client} seed ${seed}] ${JSON.stringify({ ...report, verdict: { ...verdict, outputs: undefined } })}`,
    );
    expect(verdict, chaosDiagnosis(report)).toMatchObject({
      ok: true,
      missing: 0,
      duplicated: 0,
      abortedRead: 0,
      orderViolations: 0,
    });
    expect(verdict.tables).toEqual([
      expect.objectContaining({
        missing: 0,
        duplicated: 0,
        orphans: 0,
        rowsWithoutOutput: 0,
        outputsWithoutRows: 0,
        preparedLeft: 0,
      }),
    ]);
    expect(verdict.tables?.[0]?.rows).toBe(verdict.inputs);
    expect(report.events['postgres-crash']).toBe(1);
    expect(report.inputsLost).toBe(0);
  }, 600_000);
});

// The RabbitMQ profile: a queue read by three instances (one active at a time, single active consumer), each
// message a record in Kafka and a message on an exchange, while a publisher with confirms publishes (again, with
// the same id, what a node kill left unconfirmed), instances are killed and the RabbitMQ node dies. Kills timed
// inside a commit's windows and zombies (35 s each, past the heartbeat) are left to the full profile (a SIGKILL
// after Kafka's commit, before the acknowledgement, is also packages/rabbitmq/test/queue-input.test.ts). On the
// default client only: CI's time is short.
describe('chaos with RabbitMQ: a queue into Kafka and an exchange, once into Kafka', () => {
  it('2,000 messages, 2 SIGKILLs, a RabbitMQ kill -9: each id once in Kafka, each exchange message at least once, the queue empty', async () => {
    const seed = Number(process.env.EXACTLY_CHAOS_SEED ?? 20261130);
    const report = await runRabbitMQChaos({
      records: 2000,
      instances: 3,
      kills: 2,
      zombies: 0,
      brokerKills: 0,
      rabbitmqKills: 1,
      phaseKills: 0,
      seed,
      log: (line) => console.log(`[chaos rabbitmq seed ${seed}] ${line}`),
    });
    console.log(
      `[chaos rabbitmq seed ${seed}] ${JSON.stringify({ ...report, verdict: { ...report.verdict, examples: undefined } })}`,
    );
    const { verdict } = report;
    expect(report.events).toEqual({ kill: 2, zombie: 0, 'broker-kill': 0, 'phase-kill': 0, 'rabbitmq-kill': 1 });
    expect(verdict, JSON.stringify(verdict.examples)).toMatchObject({
      ok: true,
      published: 2000,
      records: 2000,
      missing: 0,
      duplicated: 0,
      orphans: 0,
      abortedRead: 0,
      committedUnread: 0,
      queueLeft: 0,
    });
    expect(verdict.exchange).toMatchObject({ distinct: 2000, missing: 0, withoutRecord: 0 });
    expect(report.drainStalls).toBe(0);
  }, 300_000);
});
