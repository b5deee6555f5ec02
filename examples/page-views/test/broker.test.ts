import { run } from '@exactly/runtime';
import { readTopic, runExampleOnBroker, TestDriver } from '@exactly/testkit';
import { describe, expect, inject, it } from 'vitest';
import example from '../src/example.js';
import { pageViews } from '../src/processor.js';

const brokers = inject('kafkaBrokers');

describe('page-views on a real broker', () => {
  it('each view once; the last counts of each page are what a TestDriver computes from the same views', async () => {
    const records = 3000;
    let outputTopic = '';
    const verdict = await runExampleOnBroker(example, {
      brokers,
      records,
      start: (processor) => {
        outputTopic = Object.values(processor.outputs)[0]?.name ?? '';
        return run(processor, { brokers, provenance: true, logLevel: 'silent' });
      },
    });
    expect(verdict).toMatchObject({ ok: true, inputs: records, missing: 0, duplicated: 0, abortedRead: 0 });
    const driver = new TestDriver(pageViews());
    for (let i = 0; i < records; i++) {
      const { key, value } = example.record(i);
      await driver.send(key, value);
    }
    const last = (list: ReadonlyArray<{ key: string | null; value: unknown }>) =>
      new Map(list.map((r) => [r.key, r.value]));
    const counts = (await readTopic(brokers, outputTopic)).map((r) => ({
      key: r.key?.toString() ?? null,
      value: JSON.parse(r.value?.toString() ?? 'null') as unknown,
    }));
    expect(last(counts)).toEqual(last(driver.output('counts')));
  });
});
