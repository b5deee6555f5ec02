import { describe, expect, it } from 'vitest';
import {
  defineProcessor,
  HandlerError,
  json,
  type PartitionStores,
  type RawRecord,
  RecordPipeline,
  type Serde,
  store,
  string,
  topic,
} from '../src/index.js';

interface Transfer {
  account: string;
  cents: number;
}

const transfers = topic('transfers', { key: string(), value: json<Transfer>() });
const updates = topic('balance-updates', { key: string(), value: json<{ account: string; balance: number }>() });

/** The state issue's example: a balance per account; an overdraft throws (and becomes a dead letter). */
const balances = defineProcessor({
  id: 'balances',
  input: transfers,
  stores: { balances: store({ key: string(), value: json<number>() }) },
  outputs: { updates },
  handle(record, { stores }) {
    const balance = (stores.balances.get(record.value.account) ?? 0) + record.value.cents;
    stores.balances.put(record.value.account, balance); // written first: a throw below must undo it
    if (balance < 0) throw new Error('insufficient funds');
    return { updates: [{ key: record.value.account, value: { account: record.value.account, balance } }] };
  },
});

let offset = 0;
function raw(transfer: Transfer, partition = 0): RawRecord {
  return {
    topic: 'transfers',
    partition,
    offset: String(offset++),
    timestamp: 0,
    key: Buffer.from(transfer.account),
    value: Buffer.from(JSON.stringify(transfer)),
    headers: {},
  };
}

async function setup() {
  const pipeline = await RecordPipeline.create(balances as never);
  const stores = pipeline.createStores(3);
  const balanceOf = (account: string) => stores.views.balances?.get(account);
  return { pipeline, stores, balanceOf };
}

describe('stores in the record pipeline', () => {
  it('a record sees the writes of earlier records of its transaction; none of them is committed until applied', async () => {
    const { pipeline, stores, balanceOf } = await setup();
    await pipeline.process(raw({ account: 'a', cents: 100 }), stores);
    await pipeline.process(raw({ account: 'a', cents: 50 }), stores);
    expect(balanceOf('a')).toBe(150);
    expect(stores.sizes()).toEqual({ balances: 0 }); // nothing committed yet
    stores.applyTransaction();
    expect(stores.sizes()).toEqual({ balances: 1 });
    expect(balanceOf('a')).toBe(150);
  });

  it('a dead-lettered record leaves the state as it was before it', async () => {
    const { pipeline, stores, balanceOf } = await setup();
    await pipeline.process(raw({ account: 'a', cents: 100 }), stores);
    const outcome = await pipeline.process(raw({ account: 'a', cents: -500 }), stores);
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.error).toBeInstanceOf(HandlerError);
    expect(balanceOf('a')).toBe(100);
    await pipeline.process(raw({ account: 'a', cents: -30 }), stores);
    expect(balanceOf('a')).toBe(70);
  });

  it('an aborted transaction discards its changes: the committed state is back', async () => {
    const { pipeline, stores, balanceOf } = await setup();
    await pipeline.process(raw({ account: 'a', cents: 100 }), stores);
    stores.applyTransaction();
    await pipeline.process(raw({ account: 'a', cents: 1 }), stores);
    await pipeline.process(raw({ account: 'b', cents: 7 }), stores);
    stores.discardTransaction();
    expect(balanceOf('a')).toBe(100);
    expect(balanceOf('b')).toBeUndefined();
  });

  it("the changelog records are each changed key's last value, a tombstone for a delete, on the input partition", async () => {
    const counter = defineProcessor({
      id: 'counter',
      input: transfers,
      stores: { totals: store({ value: json<number>() }) },
      outputs: { updates },
      handle(record, { stores }) {
        if (record.value.cents === 0) stores.totals.delete(record.value.account);
        else stores.totals.put(record.value.account, (stores.totals.get(record.value.account) ?? 0) + 1);
        return {};
      },
    });
    const pipeline = await RecordPipeline.create(counter as never);
    const stores = pipeline.createStores(5);
    for (const transfer of [
      { account: 'a', cents: 1 },
      { account: 'a', cents: 1 },
      { account: 'b', cents: 1 },
      { account: 'b', cents: 0 },
    ])
      await pipeline.process(raw(transfer, 5), stores);
    const records = stores.changelogRecords();
    expect(records.map((r) => [r.topic, r.partition, r.key?.toString(), r.value?.toString() ?? null])).toEqual([
      ['counter-totals-changelog', 5, 'a', '2'],
      ['counter-totals-changelog', 5, 'b', null],
    ]);
    expect(pipeline.changelogTopics).toEqual(['counter-totals-changelog']);
  });

  it('entries() sees the committed state with the transaction and the record on top, deletes included', async () => {
    const { pipeline, stores } = await setup();
    stores.restore('balances', [{ key: Buffer.from('a'), value: Buffer.from('1') }]);
    stores.restore('balances', [{ key: Buffer.from('b'), value: Buffer.from('2') }]);
    await pipeline.process(raw({ account: 'c', cents: 3 }), stores);
    stores.views.balances?.delete('a');
    expect(new Map(stores.views.balances?.entries())).toEqual(
      new Map([
        ['b', 2],
        ['c', 3],
      ]),
    );
  });

  it('restores the committed state from changelog records (the last one of a key wins; a tombstone deletes)', async () => {
    const { stores, balanceOf } = await setup();
    stores.restore('balances', [{ key: Buffer.from('a'), value: Buffer.from('5') }]);
    stores.restore('balances', [{ key: Buffer.from('a'), value: Buffer.from('9') }]);
    stores.restore('balances', [{ key: Buffer.from('b'), value: Buffer.from('1') }]);
    stores.restore('balances', [{ key: Buffer.from('b'), value: null }]);
    expect(balanceOf('a')).toBe(9);
    expect(balanceOf('b')).toBeUndefined();
    expect(stores.sizes()).toEqual({ balances: 1 });
  });

  it('a value read and changed without put() changes nothing (values are copies)', async () => {
    const objects = defineProcessor({
      id: 'objects',
      input: transfers,
      stores: { last: store({ value: json<{ cents: number }>() }) },
      outputs: { updates },
      handle(record, { stores }) {
        const last = stores.last.get('k');
        if (last)
          last.cents = 999; // not put back
        else stores.last.put('k', { cents: record.value.cents });
        return {};
      },
    });
    const pipeline = await RecordPipeline.create(objects as never);
    const stores: PartitionStores = pipeline.createStores(0);
    await pipeline.process(raw({ account: 'a', cents: 1 }), stores);
    await pipeline.process(raw({ account: 'a', cents: 2 }), stores);
    expect(stores.views.last?.get('k')).toEqual({ cents: 1 });
  });

  it('refuses store serdes that cannot encode synchronously, as a handler error of the record', async () => {
    const slow: Serde<number> = {
      name: 'slow',
      serialize: async (value) => Buffer.from(String(value)),
      deserialize: (bytes) => Number(bytes.toString()),
    };
    const processor = defineProcessor({
      id: 'slow',
      input: transfers,
      stores: { slow: store({ value: slow }) },
      outputs: { updates },
      handle(record, { stores }) {
        stores.slow.put(record.value.account, 1);
        return {};
      },
    });
    const pipeline = await RecordPipeline.create(processor as never);
    const outcome = await pipeline.process(raw({ account: 'a', cents: 1 }), pipeline.createStores(0));
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.error.reason).toMatch(/store 'slow': its value serde must encode synchronously/);
  });

  it('a processor with stores cannot be run without its partition stores (a programming error, not a dead letter)', async () => {
    const pipeline = await RecordPipeline.create(balances as never);
    expect(() => pipeline.process(raw({ account: 'a', cents: 1 }))).toThrow(/needs the partition's stores/);
  });

  it('checks store declarations at definition time, naming the field', () => {
    expect(() =>
      defineProcessor({
        id: 'bad',
        input: transfers,
        stores: { s: { key: string() } as never },
        outputs: { updates },
        handle: () => ({}),
      }),
    ).toThrow(/stores\.s: must be a store/);
    expect(() => store({} as never)).toThrow(/store\(\)\.value: a value serde is required/);
  });
});
