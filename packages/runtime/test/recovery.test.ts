import { setTimeout as delay } from 'node:timers/promises';
import { defineProcessor, Headers, json, type Processor, string, topic } from '@exactly/core';
import { describe, expect, it } from 'vitest';
import { ProcessorStoppedError } from '../src/errors.js';
import { FakeKafka } from './fake/fake-kafka.js';
import { type Fencing, fanOut, fanOutOnFake, ids, range, runOnFake, until } from './fake/run-on-fake.js';

// Every recovery path of the transaction owner and both engine modes, on an in-memory Kafka that fails the
// calls a test names. Each test checks what was sent, what became visible (read_committed), what was
// committed, and what was read again. The same paths run on real brokers in engine/crashes/chaos tests.

const MODES: readonly Fencing[] = ['partition', 'instance'];

/** Runs the fan-out processor on `kafka` until every input is committed, then stops it. */
async function drain(kafka: FakeKafka, fencing: Fencing, count: number, partitions = 1, options = {}) {
  const topics = fanOutOnFake(kafka, count, partitions);
  const input = { group: topics.id, topic: topics.input, count, partitions };
  const app = await runUntilCommitted(kafka, fencing, fanOut(topics), input, options);
  return { topics, app };
}

/** Runs `processor` until `count` inputs of `input` are committed (over its partitions), then stops it. */
async function runUntilCommitted(
  kafka: FakeKafka,
  fencing: Fencing,
  processor: Processor,
  input: { group: string; topic: string; count: number; partitions?: number },
  options = {},
) {
  const app = await runOnFake(kafka, fencing, processor, options);
  try {
    await until(
      () => committedTotal(kafka, input.group, input.topic, input.partitions ?? 1) === input.count,
      `${input.count} inputs committed`,
      15_000,
    );
  } finally {
    await app.stop();
  }
  return app;
}

/** Another producer takes the transactional.id once, between a transaction's outputs and its offsets. */
function fenceOnceBeforeOffsets(kafka: FakeKafka): void {
  let fenced = false;
  kafka.before('sendOffsets', ({ transactionalId }) => {
    if (fenced || !transactionalId) return;
    fenced = true;
    kafka.fence(transactionalId);
  });
}

function committedTotal(kafka: FakeKafka, group: string, input: string, partitions: number): number {
  let total = 0;
  for (let p = 0; p < partitions; p++) total += Number(kafka.committedOffset(group, input, p) ?? 0n);
  return total;
}

describe.each(MODES)('the transaction owner, %s fencing (fake Kafka, no broker)', (fencing) => {
  it('commits each input once on both outputs, with its offset', async () => {
    const kafka = new FakeKafka();
    const { topics } = await drain(kafka, fencing, 250, 2);
    expect(ids(kafka.read(topics.left))).toEqual(range(250));
    expect(ids(kafka.read(topics.right))).toEqual(range(250));
    expect(kafka.aborted(topics.left)).toEqual([]);
    expect(kafka.count('abort')).toBe(0);
  });

  it('a failure before the commit aborts, and the batch is redone with the same producer', async () => {
    const kafka = new FakeKafka();
    kafka.failNext('sendOffsets', 'retriable', { code: 'COORDINATOR_LOAD_IN_PROGRESS' });
    const { topics } = await drain(kafka, fencing, 50);
    expect(kafka.count('abort')).toBe(1);
    expect(kafka.inits()).toBe(1); // kept: its abort went through
    expect(ids(kafka.read(topics.left))).toEqual(range(50));
    expect(ids(kafka.aborted(topics.left)).length).toBeGreaterThan(0); // the first attempt was written, aborted
  });

  it('a commit that fails is an unknown outcome: new producer, offsets read again, nothing twice (it had committed)', async () => {
    const kafka = new FakeKafka();
    kafka.failNext('commit', 'retriable', { code: 'REQUEST_TIMED_OUT', takeEffect: true });
    const { topics } = await drain(kafka, fencing, 50, 1, { maxBatchRecords: 10 });
    expect(kafka.inits()).toBe(2); // the producer was replaced
    expect(ids(kafka.read(topics.left))).toEqual(range(50)); // not redone on top of the commit
    expect(ids(kafka.read(topics.right))).toEqual(range(50));
  });

  it('a commit that fails and did not commit: redone once', async () => {
    const kafka = new FakeKafka();
    kafka.failNext('commit', 'retriable', { code: 'COORDINATOR_NOT_AVAILABLE' });
    const { topics } = await drain(kafka, fencing, 50);
    expect(kafka.inits()).toBe(2);
    expect(ids(kafka.read(topics.left))).toEqual(range(50));
    // The failed commit's records stay pending until the new producer's InitProducerId aborts them.
    expect(ids(kafka.aborted(topics.left)).length).toBeGreaterThan(0);
  });

  it('an abort that fails too: the producer is dropped, and the next one ends what it left', async () => {
    const kafka = new FakeKafka();
    kafka.failNext('send', 'abortable', { code: 'INVALID_TXN_STATE' });
    kafka.failNext('abort', 'retriable', { code: 'REQUEST_TIMED_OUT' });
    const { topics } = await drain(kafka, fencing, 50);
    expect(kafka.inits()).toBe(2);
    expect(ids(kafka.read(topics.left))).toEqual(range(50));
  });

  it('an abortable error re-opens the producer and re-reads the committed position', async () => {
    const kafka = new FakeKafka();
    kafka.failNext('sendOffsets', 'abortable', { code: 'UNKNOWN_PRODUCER_ID' });
    const { topics } = await drain(kafka, fencing, 80, 2);
    expect(kafka.inits()).toBeGreaterThanOrEqual(2);
    expect(ids(kafka.read(topics.left))).toEqual(range(80));
  });

  it('a fatal error stops the processor with it, committing nothing more', async () => {
    const kafka = new FakeKafka();
    const topics = fanOutOnFake(kafka, 20);
    kafka.failNext('send', 'fatal', { code: 'TOPIC_AUTHORIZATION_FAILED' });
    const app = await runOnFake(kafka, fencing, fanOut(topics));
    await expect(app.done).rejects.toThrow(/TOPIC_AUTHORIZATION_FAILED/);
    expect(kafka.read(topics.left)).toEqual([]);
    expect(kafka.committedOffset(topics.id, topics.input, 0)).toBeNull();
  });

  it("onError 'stop': everything before the bad record commits, nothing from it on", async () => {
    const kafka = new FakeKafka();
    const topics = fanOutOnFake(kafka, 30);
    const processor = defineProcessor({ ...fanOut(topics, { throwOn: new Set([12]) }), onError: 'stop' });
    const app = await runOnFake(kafka, fencing, processor);
    const error = await app.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProcessorStoppedError);
    expect((error as Error).message).toMatch(/offset 12/);
    expect(ids(kafka.read(topics.left))).toEqual(range(12));
    expect(kafka.committedOffset(topics.id, topics.input, 0)).toBe(12n);
    expect(kafka.read(topics.dlq)).toEqual([]);
  });

  it('a dead letter in a transaction that fails is written once, with the redo', async () => {
    const kafka = new FakeKafka();
    const topics = fanOutOnFake(kafka, 40);
    kafka.failNext('commit', 'abortable', { code: 'INVALID_TXN_STATE' });
    await runUntilCommitted(kafka, fencing, fanOut(topics, { throwOn: new Set([3]) }), {
      group: topics.id,
      topic: topics.input,
      count: 40,
    });
    const dead = kafka.read(topics.dlq);
    expect(dead.map((r) => r.key?.toString())).toEqual(['key-3']);
    expect(dead[0]?.headers[Headers.errorKind]).toBe('handler');
    expect(ids(kafka.aborted(topics.dlq))).toEqual([3]); // the failed transaction held it too
    expect(ids(kafka.read(topics.left))).toEqual(range(40).filter((id) => id !== 3));
  });

  it('a transaction that outlives its timeout is re-opened and made smaller, not taken for a second process', async () => {
    const kafka = new FakeKafka();
    const topics = fanOutOnFake(kafka, 60);
    let slow = 4; // the first sends stall past the timeout (the broker is slow), later ones do not
    kafka.before('send', async () => {
      if (slow-- > 0) await delay(80);
    });
    const app = await runUntilCommitted(
      kafka,
      fencing,
      fanOut(topics),
      { group: topics.id, topic: topics.input, count: 60 },
      { transactionTimeoutMs: 50 },
    );
    await expect(app.done).resolves.toBeUndefined(); // not stopped as "fenced three times"
    expect(kafka.inits()).toBeGreaterThanOrEqual(4);
    expect(ids(kafka.read(topics.left))).toEqual(range(60));
    // Made smaller: with 100 records per transaction 60 inputs take one; halved four times, several.
    expect(kafka.count('commit')).toBeGreaterThan(2);
  });
});

describe('partition fencing only (fake Kafka)', () => {
  it('fenced mid-transaction: the zombie commits nothing, gives the partition up, and it is opened again later', async () => {
    const kafka = new FakeKafka();
    const topics = fanOutOnFake(kafka, 30);
    fenceOnceBeforeOffsets(kafka); // a new owner's InitProducerId, between the outputs and the offsets
    await runUntilCommitted(kafka, 'partition', fanOut(topics), { group: topics.id, topic: topics.input, count: 30 });
    expect(ids(kafka.aborted(topics.left)).length).toBeGreaterThan(0); // the zombie's outputs: never visible
    expect(ids(kafka.read(topics.left))).toEqual(range(30));
    expect(kafka.inits()).toBe(2);
  }, 20_000);
});

describe('instance fencing only (fake Kafka)', () => {
  it('fenced once (say a restart elsewhere under this id): re-opens and goes on', async () => {
    const kafka = new FakeKafka();
    const topics = fanOutOnFake(kafka, 30);
    fenceOnceBeforeOffsets(kafka);
    const app = await runUntilCommitted(kafka, 'instance', fanOut(topics), {
      group: topics.id,
      topic: topics.input,
      count: 30,
    });
    await expect(app.done).resolves.toBeUndefined();
    expect(ids(kafka.read(topics.left))).toEqual(range(30));
  });

  it('fenced three times in a minute: another live process has this instance id; stops and says so', async () => {
    const kafka = new FakeKafka();
    const topics = fanOutOnFake(kafka, 30);
    kafka.before('sendOffsets', ({ transactionalId }) => {
      if (transactionalId) kafka.fence(transactionalId);
    });
    const app = await runOnFake(kafka, 'instance', fanOut(topics), { instanceId: 'pod-7' });
    await expect(app.done).rejects.toThrow(/another live process runs with instance id 'pod-7'/);
    expect(kafka.read(topics.left)).toEqual([]);
  });

  it('the group moves on between fetch and commit: the commit is refused, the poll redone under the new generation', async () => {
    const kafka = new FakeKafka();
    const topics = fanOutOnFake(kafka, 40);
    let moved = false;
    kafka.before('sendOffsets', () => {
      if (moved) return;
      moved = true;
      kafka.rebalance();
    });
    await runUntilCommitted(kafka, 'instance', fanOut(topics), {
      group: topics.id,
      topic: topics.input,
      count: 40,
    });
    expect(kafka.count('abort')).toBe(1);
    expect(kafka.inits()).toBe(1); // membership loss needs no new producer
    expect(ids(kafka.read(topics.left))).toEqual(range(40));
    expect(ids(kafka.aborted(topics.left)).length).toBeGreaterThan(0);
  });

  it('a poll spanning a partition revoked before its commit: nothing of the poll commits; the kept partition is redone', async () => {
    const kafka = new FakeKafka();
    const topics = fanOutOnFake(kafka, 40, 2);
    let revoked = false;
    kafka.before('sendOffsets', ({ offsets }) => {
      if (revoked || (offsets ?? []).length < 2) return;
      revoked = true;
      kafka.revoke(topics.input, [1]); // partition 1 goes to another instance
    });
    const app = await runOnFake(kafka, 'instance', fanOut(topics));
    try {
      await until(() => kafka.committedOffset(topics.id, topics.input, 0) === 20n, 'partition 0 committed');
      // Partition 1 is elsewhere: this instance commits nothing for it.
      expect(kafka.committedOffset(topics.id, topics.input, 1)).toBeNull();
      expect(ids(kafka.read(topics.left))).toEqual(range(20).map((i) => i * 2));
      kafka.restore();
      await until(() => kafka.committedOffset(topics.id, topics.input, 1) === 20n, 'partition 1 committed');
    } finally {
      await app.stop();
    }
    expect(ids(kafka.read(topics.left))).toEqual(range(40));
  });
});

describe.each(MODES)('outputs the broker would refuse, %s fencing (fake Kafka)', (fencing) => {
  const padded = (limitBytes: number) => {
    const kafka = new FakeKafka();
    const topics = { id: 'big', input: 'big.in', out: 'big.out', dlq: 'big.dlq' };
    kafka.createTopic(topics.input, 1);
    kafka.createTopic(topics.out, 1, { maxMessageBytes: limitBytes });
    kafka.createTopic(topics.dlq, 1);
    kafka.produce(
      topics.input,
      range(20).map((id) => ({ key: `key-${id}`, value: JSON.stringify({ id, size: id === 7 ? 5000 : 10 }) })),
    );
    const processor = defineProcessor({
      id: topics.id,
      input: topic(topics.input, { key: string(), value: json<{ id: number; size: number }>() }),
      outputs: { out: topic(topics.out, { key: string(), value: json<{ id: number; pad: string }>() }) },
      handle: ({ key, value }) => ({ out: [{ key, value: { id: value.id, pad: 'x'.repeat(value.size) } }] }),
    });
    return { kafka, topics, processor };
  };

  it("an output over its topic's max.message.bytes: its input is dead-lettered with the sizes, the rest go on", async () => {
    const { kafka, topics, processor } = padded(1000);
    await runUntilCommitted(kafka, fencing, processor, {
      group: topics.id,
      topic: topics.input,
      count: 20,
    });
    expect(ids(kafka.read(topics.out))).toEqual(range(20).filter((id) => id !== 7));
    const [dead, ...more] = kafka.read(topics.dlq);
    expect(more).toEqual([]);
    expect(dead?.key?.toString()).toBe('key-7');
    expect(dead?.headers[Headers.errorKind]).toBe('encode');
    expect(String(dead?.headers[Headers.errorMessage])).toMatch(
      /topic big\.out is 5\d{3} bytes; the topic accepts at most 1000/,
    );
    expect(kafka.count('abort')).toBe(0); // caught before sending
  });

  it('a record the broker refuses anyway (a rule the engine cannot check) is found and dead-lettered', async () => {
    const { kafka, topics, processor } = padded(1_000_000);
    kafka.refuseOn(topics.out, (record) => (record.value?.length ?? 0) > 1000);
    await runUntilCommitted(kafka, fencing, processor, {
      group: topics.id,
      topic: topics.input,
      count: 20,
    });
    expect(ids(kafka.read(topics.out))).toEqual(range(20).filter((id) => id !== 7));
    const dead = kafka.read(topics.dlq);
    expect(dead.map((r) => r.key?.toString())).toEqual(['key-7']);
    expect(String(dead[0]?.headers[Headers.errorMessage])).toMatch(/big\.out refused an output: INVALID_RECORD/);
    // Found in two redos: one to send each input's outputs on their own, one with the culprit dead-lettered.
    expect(kafka.count('abort')).toBe(2);
  });

  it("with onError 'stop', a refused record stops the processor naming it, after committing what came before", async () => {
    const { kafka, topics, processor } = padded(1_000_000);
    kafka.refuseOn(topics.out, (record) => (record.value?.length ?? 0) > 1000);
    const app = await runOnFake(kafka, fencing, defineProcessor({ ...processor, onError: 'stop' }));
    await expect(app.done).rejects.toThrow(/offset 7/);
    expect(ids(kafka.read(topics.out))).toEqual(range(7));
    expect(kafka.committedOffset(topics.id, topics.input, 0)).toBe(7n);
  });
});

describe('a fetch made before a rewind (fake Kafka, partition fencing, as KafkaJS delivers it)', () => {
  it('is dropped and fetched again from the position: no input is skipped', async () => {
    const kafka = new FakeKafka();
    kafka.staleFetchAfterRewind = true;
    // The first batch (0-499) fails before its commit and is rewound; the fetch from 500 still arrives.
    kafka.failNext('sendOffsets', 'retriable', { code: 'COORDINATOR_NOT_AVAILABLE' });
    const { topics } = await drain(kafka, 'partition', 1200);
    expect(ids(kafka.read(topics.left))).toEqual(range(1200));
    expect(ids(kafka.read(topics.right))).toEqual(range(1200));
  });
});
