import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { createTopics, generateRecords, testClient, uniqueTopic, verifyExactlyOnce } from '../src/index.js';
import { compareWithLog } from '../src/verifier/verify.js';

const brokers = inject('kafkaBrokers');

interface Output {
  readonly source: string; // "partition:offset" of the input it cites
  readonly partition?: number;
}

/** An input topic of `n` records on one partition, and an empty output topic. */
async function fixture(n: number) {
  const input = uniqueTopic('verify-in');
  const output = uniqueTopic('verify-out');
  await createTopics(brokers, [input, { name: output, partitions: 2 }]);
  await generateRecords({ brokers, topic: input, count: n });
  return { input, output };
}

/** Writes outputs with provenance headers in one transaction, committed or aborted. */
async function write(input: string, output: string, outputs: readonly Output[], end: 'commit' | 'abort' = 'commit') {
  const producer = testClient(brokers).producer({
    transactionalId: `verify-${randomUUID()}`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  const tx = await producer.transaction();
  for (const { source, partition } of outputs) {
    const [sourcePartition, sourceOffset] = source.split(':');
    await tx.send({
      topic: output,
      messages: [
        {
          partition: partition ?? 0,
          value: source,
          headers: {
            'exactly.source.topic': input,
            'exactly.source.partition': sourcePartition ?? '',
            'exactly.source.offset': sourceOffset ?? '',
          },
        },
      ],
    });
  }
  await (end === 'commit' ? tx.commit() : tx.abort());
  await producer.disconnect();
}

const once = (n: number): Output[] => Array.from({ length: n }, (_, i) => ({ source: `0:${i}` }));
const verify = (t: { input: string; output: string }) =>
  verifyExactlyOnce({ brokers, input: t.input, outputs: [t.output] });

describe('the exactly-once verifier catches each corruption (real broker)', () => {
  it('passes a clean run', async () => {
    const t = await fixture(5);
    await write(t.input, t.output, once(5));
    const verdict = await verify(t);
    expect(verdict).toMatchObject({
      ok: true,
      inputs: 5,
      missing: 0,
      duplicated: 0,
      orphans: 0,
      orderViolations: 0,
      abortedRead: 0,
    });
  });

  it('reads topics created a moment before (their partitions answer "not the leader" for a while)', async () => {
    const input = uniqueTopic('verify-new-in');
    const output = uniqueTopic('verify-new-out');
    const admin = testClient(brokers).admin();
    await admin.connect();
    await admin.createTopics({
      topics: [input, output].map((topic) => ({ topic, numPartitions: 6 })),
      waitForLeaders: false,
    });
    await admin.disconnect();
    const verdict = await verifyExactlyOnce({ brokers, input, outputs: [output] });
    expect(verdict).toMatchObject({ ok: true, inputs: 0, missing: 0 });
  });

  it('catches a duplicate', async () => {
    const t = await fixture(5);
    await write(t.input, t.output, once(5));
    await write(t.input, t.output, [{ source: '0:3' }]);
    const verdict = await verify(t);
    expect(verdict).toMatchObject({ ok: false, duplicated: 1, missing: 0 });
    expect(verdict.outputs[0]?.examples.join('\n')).toContain('input 0:3 has 2 outputs');
  });

  it('catches a gap', async () => {
    const t = await fixture(5);
    await write(
      t.input,
      t.output,
      once(5).filter((o) => o.source !== '0:2'),
    );
    expect(await verify(t)).toMatchObject({ ok: false, missing: 1, duplicated: 0 });
  });

  it('an output that exists only in an aborted transaction counts as missing, and the abort is seen in the log', async () => {
    const t = await fixture(5);
    await write(
      t.input,
      t.output,
      once(5).filter((o) => o.source !== '0:4'),
    );
    await write(t.input, t.output, [{ source: '0:4' }], 'abort');
    const verdict = await verify(t);
    expect(verdict).toMatchObject({ ok: false, missing: 1, abortedRead: 0 });
    expect(verdict.outputs[0]).toMatchObject({ abortedInLog: 1, committedUnread: 0 });
  });

  it('catches a reordered pair within an output partition', async () => {
    const t = await fixture(5);
    await write(t.input, t.output, [
      { source: '0:0' },
      { source: '0:2' },
      { source: '0:1' },
      { source: '0:3' },
      { source: '0:4' },
    ]);
    expect(await verify(t)).toMatchObject({ ok: false, orderViolations: 1, missing: 0, duplicated: 0 });
  });

  it('does not call it a reordering when the pair lands in different output partitions', async () => {
    const t = await fixture(3);
    await write(t.input, t.output, [
      { source: '0:0', partition: 0 },
      { source: '0:2', partition: 0 },
      { source: '0:1', partition: 1 },
    ]);
    expect(await verify(t)).toMatchObject({ ok: true, orderViolations: 0 });
  });

  it('catches an output that cites no input', async () => {
    const t = await fixture(2);
    await write(t.input, t.output, [...once(2), { source: '0:999' }]);
    expect(await verify(t)).toMatchObject({ ok: false, orphans: 1 });
  });

  it('flags a read_committed view that holds an aborted record or lacks a committed one', () => {
    const scanned = [
      { partition: 0, offset: '0', fate: 'committed', headers: {} },
      { partition: 0, offset: '2', fate: 'aborted', headers: {} },
      { partition: 0, offset: '4', fate: 'committed', headers: {} },
    ] as const;
    expect(
      compareWithLog(
        [
          { partition: 0, offset: '0' },
          { partition: 0, offset: '2' },
        ],
        scanned,
      ),
    ).toEqual({
      abortedInLog: 1,
      abortedRead: 1,
      committedUnread: 1,
      unresolved: 0,
    });
  });

  it('accepts an input that went to the dead-letter topic once and nowhere else; flags one that did both', async () => {
    const t = await fixture(3);
    const dlq = uniqueTopic('verify-dlq');
    await createTopics(brokers, [dlq]);
    await write(t.input, t.output, [{ source: '0:0' }, { source: '0:2' }]);
    await write(t.input, dlq, [{ source: '0:1' }]);
    const verify = (outputs: string[]) => verifyExactlyOnce({ brokers, input: t.input, outputs, deadLetter: dlq });
    expect(await verify([t.output])).toMatchObject({ ok: true, missing: 0, duplicated: 0 });

    await write(t.input, t.output, [{ source: '0:1' }]); // now 0:1 is both dead-lettered and processed
    expect(await verify([t.output])).toMatchObject({ ok: false, duplicated: 1 });
  });
});
