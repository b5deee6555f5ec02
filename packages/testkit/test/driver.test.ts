import { randomUUID } from 'node:crypto';
import {
  avro,
  confluentSchemaRegistry,
  DecodeError,
  defineProcessor,
  EncodeError,
  ExactlyConfigError,
  HandlerError,
  type InputRecord,
  json,
  type OnError,
  store,
  string,
  topic,
} from '@exactly/core';
import { afterAll, describe, expect, expectTypeOf, it } from 'vitest';
import { registryLabel, startSchemaRegistry, TestDriver, type TestOutputRecord } from '../src/index.js';

interface Order {
  id: string;
  qty: number;
}
interface Shipment {
  orderId: string;
  qty: number;
}

const orders = topic('orders', { key: string(), value: json<Order>() });
const shipments = topic('shipments', { key: string(), value: json<Shipment>() });
const audit = topic('audit', { value: string() });

const registry = await startSchemaRegistry();
afterAll(() => registry.stop());
const against = registryLabel(registry);

type Handle = (record: InputRecord<string, Order>) => unknown;

/** A processor whose handler the test chooses; the default ships every order and audits it. */
function router(options: { handle?: Handle; onError?: OnError } = {}) {
  const seen: Array<InputRecord<string, Order>> = [];
  const handle: Handle =
    options.handle ??
    ((record) => ({
      shipments: [{ key: record.key, value: { orderId: record.value.id, qty: record.value.qty } }],
      audit: [{ value: `order ${record.value.id}`, headers: { from: 'router' } }],
    }));
  const processor = defineProcessor({
    id: 'router',
    input: orders,
    outputs: { shipments, audit },
    onError: options.onError ?? 'dead-letter',
    handle: (record) => {
      seen.push(record);
      return handle(record) as never;
    },
  });
  return { processor, seen };
}

describe('TestDriver', () => {
  it('sends a record through decode, handle and encode, and decodes the outputs, typed by name', async () => {
    const { processor } = router();
    const driver = new TestDriver(processor);
    await driver.send('k1', { id: 'o1', qty: 2 });

    const shipped = driver.output('shipments');
    expectTypeOf(shipped).toEqualTypeOf<ReadonlyArray<TestOutputRecord<string, Shipment>>>();
    expectTypeOf(driver.output('audit')).toEqualTypeOf<ReadonlyArray<TestOutputRecord<string, string>>>();
    expectTypeOf(driver.send).parameter(1).toEqualTypeOf<Order>();
    expect(shipped).toEqual([
      {
        topic: 'shipments',
        key: 'k1',
        value: { orderId: 'o1', qty: 2 },
        headers: {},
        source: { topic: 'orders', partition: 0, offset: '0' },
      },
    ]);
    expect(driver.output('audit')).toEqual([
      expect.objectContaining({ key: null, value: 'order o1', headers: { from: 'router' } }),
    ]);
    expect(driver.deadLetters()).toEqual([]);
  });

  it('refuses an output name the processor does not have', () => {
    const driver = new TestDriver(router().processor);
    expect(() =>
      // @ts-expect-error 'shipment' is not an output name
      driver.output('shipment'),
    ).toThrow("output('shipment'): no such output (outputs: shipments, audit)");
  });

  it('hands the handler the partition, timestamp and headers, and counts offsets per partition from 0', async () => {
    const { processor, seen } = router();
    const driver = new TestDriver(processor);
    await driver.send('a', { id: '1', qty: 1 }, { timestamp: 1000, headers: { trace: 't1', bin: Buffer.from('b') } });
    await driver.send('b', { id: '2', qty: 1 });
    await driver.send('c', { id: '3', qty: 1 }, { partition: 2 });
    await driver.send('d', { id: '4', qty: 1 });
    expect(seen.map((r) => [r.partition, r.offset])).toEqual([
      [0, '0'],
      [0, '1'],
      [2, '0'],
      [0, '2'],
    ]);
    expect(seen[0]).toMatchObject({ topic: 'orders', timestamp: 1000, headers: { trace: 't1', bin: 'b' } });
    expect(driver.output('shipments').map((r) => r.source.offset)).toEqual(['0', '1', '0', '2']);
  });

  it('sends a null key as a record without a key', async () => {
    const { processor, seen } = router();
    const driver = new TestDriver(processor);
    await driver.send(null, { id: 'o', qty: 1 });
    expect(seen[0]?.key).toBeNull();
    expect(driver.output('shipments')[0]?.key).toBeNull();
  });

  it('awaits async handlers and keeps send order even when sends are not awaited', async () => {
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const { processor } = router({
      handle: async (record) => {
        if (record.value.id === 'slow') await gate;
        return { audit: [{ value: record.value.id }] };
      },
    });
    const driver = new TestDriver(processor);
    const slow = driver.send('k', { id: 'slow', qty: 1 });
    const fast = driver.send('k', { id: 'fast', qty: 1 });
    open();
    await Promise.all([slow, fast]);
    expect(driver.output('audit').map((r) => r.value)).toEqual(['slow', 'fast']);
  });

  it('keeps the partition the handler chose', async () => {
    const driver = new TestDriver(router({ handle: () => ({ audit: [{ value: 'x', partition: 3 }] }) }).processor);
    await driver.send('k', { id: 'o', qty: 1 });
    expect(driver.output('audit')[0]?.partition).toBe(3);
  });

  it('rejects a send whose value the input serde refuses, without using an offset', async () => {
    const { processor, seen } = router();
    const driver = new TestDriver(processor);
    await expect(driver.send('k', undefined as unknown as Order)).rejects.toThrow(
      'send(): the value cannot be encoded for input topic orders',
    );
    await driver.send('k', { id: 'o', qty: 1 });
    expect(seen.map((r) => r.offset)).toEqual(['0']);
  });

  describe('dead letters', () => {
    it('sends undecodable input to the dead-letter topic with its raw bytes and the documented headers', async () => {
      const { processor, seen } = router();
      const driver = new TestDriver(processor);
      const key = Buffer.from('k1');
      const value = Buffer.from('{not json');
      await driver.sendRaw({ key, value, partition: 1, timestamp: 1234, headers: { trace: 'abc' } });
      expect(seen).toEqual([]);
      expect(driver.output('shipments')).toEqual([]);
      const [letter] = driver.deadLetters();
      expect(letter).toMatchObject({
        topic: 'router.dlq',
        key,
        value,
        kind: 'decode',
        source: { topic: 'orders', partition: 1, offset: '0' },
      });
      expect(letter?.reason).toMatch(/^value: not valid JSON/);
      expect(letter?.error).toBeInstanceOf(DecodeError);
      expect(letter?.headers).toEqual({
        trace: 'abc',
        'exactly.error.kind': 'decode',
        'exactly.error.message': letter?.reason,
        'exactly.source.topic': 'orders',
        'exactly.source.partition': '1',
        'exactly.source.offset': '0',
        'exactly.source.timestamp': '1234',
      });
    });

    it("dead-letters a record whose output is larger than its topic accepts (Kafka's default, or the limit given)", async () => {
      const big = router({ handle: (record) => ({ audit: [{ value: 'x'.repeat(record.value.qty) }] }) });
      const driver = new TestDriver(big.processor);
      await driver.send('k', { id: 'small', qty: 1000 });
      await driver.send('k', { id: 'huge', qty: 2 * 1024 * 1024 });
      expect(driver.output('audit')).toHaveLength(1);
      const [letter] = driver.deadLetters();
      expect(letter?.kind).toBe('encode');
      expect(letter?.reason).toMatch(
        /audit\[0\] for topic audit is 2097\d{3} bytes; the topic accepts at most 1048588/,
      );

      const strict = new TestDriver(big.processor, { maxRecordBytes: { audit: 500 } });
      await strict.send('k', { id: 'small', qty: 1000 });
      expect(strict.output('audit')).toEqual([]);
      expect(strict.deadLetters()[0]?.reason).toMatch(/at most 500 \(max\.message\.bytes\)/);
    });

    it('dead-letters a tombstone and a key that is not UTF-8', async () => {
      const driver = new TestDriver(router().processor);
      await driver.sendRaw({ value: null });
      await driver.sendRaw({ key: Buffer.from([0xff]), value: Buffer.from('{"id":"o","qty":1}') });
      expect(driver.deadLetters().map((d) => [d.kind, d.reason, d.key, d.value])).toEqual([
        [
          'decode',
          'value: record has no value (a tombstone; topic(name, { ..., tombstones: true }) accepts them)',
          null,
          null,
        ],
        ['decode', 'key: bytes are not valid UTF-8', Buffer.from([0xff]), Buffer.from('{"id":"o","qty":1}')],
      ]);
    });

    it('dead-letters a record whose handler throws, with the error and its cause', async () => {
      const boom = new Error('no stock');
      const driver = new TestDriver(
        router({
          handle: () => {
            throw boom;
          },
        }).processor,
      );
      await driver.send('k', { id: 'o', qty: 1 });
      const [letter] = driver.deadLetters();
      expect(letter?.kind).toBe('handler');
      expect(letter?.reason).toBe('handler threw: no stock');
      expect(letter?.error).toBeInstanceOf(HandlerError);
      expect(letter?.error.cause).toBe(boom);
      expect(letter?.value?.toString()).toBe('{"id":"o","qty":1}');
    });

    it('dead-letters a record whose outputs cannot be encoded, and writes none of them', async () => {
      const driver = new TestDriver(
        router({ handle: (r) => ({ shipments: [{ value: { orderId: r.value.id, qty: 1 } }], audit: [{ value: 42 }] }) })
          .processor,
      );
      await driver.send('k', { id: 'o', qty: 1 });
      expect(driver.output('shipments')).toEqual([]);
      expect(driver.deadLetters()).toMatchObject([
        { kind: 'encode', reason: 'audit[0].value for topic audit: expected a string, got number' },
      ]);
    });

    it('dead-letters a record for which the handler returns an unknown output name', async () => {
      const driver = new TestDriver(router({ handle: () => ({ audits: [{ value: 'x' }] }) }).processor);
      await driver.send('k', { id: 'o', qty: 1 });
      const [letter] = driver.deadLetters();
      expect(letter?.error).toBeInstanceOf(EncodeError);
      expect(letter?.reason).toContain("handler returned unknown output 'audits' (outputs: shipments, audit)");
    });
  });

  describe("with onError: 'stop'", () => {
    it('rejects send with a DecodeError and records nothing', async () => {
      const driver = new TestDriver(router({ onError: 'stop' }).processor);
      await expect(driver.sendRaw({ value: Buffer.from('nope') })).rejects.toBeInstanceOf(DecodeError);
      expect(driver.deadLetters()).toEqual([]);
      expect(driver.output('shipments')).toEqual([]);
    });

    it('rejects send with a HandlerError and records nothing', async () => {
      const driver = new TestDriver(
        router({
          onError: 'stop',
          handle: () => {
            throw new Error('bad');
          },
        }).processor,
      );
      const sent = driver.send('k', { id: 'o', qty: 1 });
      await expect(sent).rejects.toBeInstanceOf(HandlerError);
      await expect(sent).rejects.toMatchObject({ location: { topic: 'orders', partition: 0, offset: '0' } });
      expect(driver.deadLetters()).toEqual([]);
    });

    it('rejects send with an EncodeError and records none of the outputs', async () => {
      const driver = new TestDriver(
        router({
          onError: 'stop',
          handle: (r) => ({ audit: [{ value: 'fine' }], shipments: [{ value: { orderId: r.value.id } }], nope: [] }),
        }).processor,
      );
      await expect(driver.send('k', { id: 'o', qty: 1 })).rejects.toBeInstanceOf(EncodeError);
      expect(driver.output('audit')).toEqual([]);
      expect(driver.output('shipments')).toEqual([]);
      expect(driver.deadLetters()).toEqual([]);
    });

    it('goes on with the next record', async () => {
      const driver = new TestDriver(router({ onError: 'stop' }).processor);
      await expect(driver.sendRaw({ value: Buffer.from('nope') })).rejects.toBeInstanceOf(DecodeError);
      await driver.send('k', { id: 'o', qty: 1 });
      expect(driver.output('shipments').map((r) => r.source.offset)).toEqual(['1']);
    });
  });

  it('adds provenance headers when asked', async () => {
    const driver = new TestDriver(router().processor, { provenance: true });
    await driver.send('k', { id: 'o', qty: 1 }, { partition: 4, timestamp: 5678 });
    expect(driver.output('audit')[0]?.headers).toEqual({
      from: 'router',
      'exactly.source.topic': 'orders',
      'exactly.source.partition': '4',
      'exactly.source.offset': '0',
      'exactly.source.timestamp': '5678',
    });
    expect(driver.output('shipments')[0]?.headers).toEqual({
      'exactly.source.topic': 'orders',
      'exactly.source.partition': '4',
      'exactly.source.offset': '0',
      'exactly.source.timestamp': '5678',
    });
  });

  it('reset() forgets outputs, dead letters and offsets', async () => {
    const driver = new TestDriver(router().processor);
    await driver.send('k', { id: 'o', qty: 1 });
    await driver.sendRaw({ value: Buffer.from('x') });
    driver.reset();
    expect(driver.output('shipments')).toEqual([]);
    expect(driver.deadLetters()).toEqual([]);
    await driver.send('k', { id: 'o2', qty: 1 });
    expect(driver.output('shipments').map((r) => [r.value.orderId, r.source.offset])).toEqual([['o2', '0']]);
  });

  it('returns copies: changing a returned list changes nothing in the driver', async () => {
    const driver = new TestDriver(router().processor);
    await driver.send('k', { id: 'o', qty: 1 });
    (driver.output('audit') as unknown[]).length = 0;
    (driver.deadLetters() as unknown[]).push('x');
    expect(driver.output('audit')).toHaveLength(1);
    expect(driver.deadLetters()).toHaveLength(0);
  });
});

describe('TestDriver with avro() serdes', () => {
  interface Audit {
    orderId: string;
    at: bigint;
  }
  const auditSchema = {
    type: 'record',
    name: 'Audit',
    fields: [
      { name: 'orderId', type: 'string' },
      { name: 'at', type: 'long' },
    ],
  };
  const avroProcessor = (auditTopic: string) =>
    defineProcessor({
      id: 'avro-router',
      input: orders,
      outputs: { audit: topic(auditTopic, { value: avro<Audit>(auditSchema) }) },
      handle: (record) => ({ audit: [{ value: { orderId: record.value.id, at: BigInt(record.timestamp) * 1000n } }] }),
    });

  it('without a registry, the first send rejects with an ExactlyConfigError naming the topic', async () => {
    const driver = new TestDriver(avroProcessor('audit-avro'));
    const sent = driver.send('k', { id: 'o', qty: 1 });
    await expect(sent).rejects.toBeInstanceOf(ExactlyConfigError);
    await expect(sent).rejects.toMatchObject({ field: "topic('audit-avro').value" });
    await expect(TestDriver.create(avroProcessor('audit-avro'))).rejects.toThrow('needs a schema registry');
  });

  it(`encodes outputs in the Confluent wire format and decodes them for output(), ${against}`, async () => {
    const auditTopic = `audit-avro-${randomUUID().slice(0, 8)}`;
    const driver = await TestDriver.create(avroProcessor(auditTopic), {
      registry: confluentSchemaRegistry({ url: registry.url }),
    });
    const at = 2 ** 52;
    await driver.send('k', { id: 'o1', qty: 1 }, { timestamp: at });
    const [record] = driver.output('audit');
    expectTypeOf(record?.value).toEqualTypeOf<Audit | undefined>();
    expect(record?.value).toEqual({ orderId: 'o1', at: BigInt(at) * 1000n });
    expect(record?.value.at).toBeGreaterThan(BigInt(Number.MAX_SAFE_INTEGER));
  });
});

describe('TestDriver with stores (the same pipeline and rollback as the runtime)', () => {
  const balances = () =>
    defineProcessor({
      id: 'balances',
      input: topic('transfers', { key: string(), value: json<{ account: string; cents: number }>() }),
      stores: { balances: store({ key: string(), value: json<number>() }) },
      outputs: {
        updates: topic('balance-updates', { key: string(), value: json<{ account: string; balance: number }>() }),
      },
      handle(record, { stores }) {
        const balance = (stores.balances.get(record.value.account) ?? 0) + record.value.cents;
        if (balance < 0) throw new Error('insufficient funds');
        stores.balances.put(record.value.account, balance);
        return { updates: [{ key: record.value.account, value: { account: record.value.account, balance } }] };
      },
    });

  it('keeps state across sends, per input partition, and leaves it untouched by a dead letter', async () => {
    const driver = new TestDriver(balances());
    await driver.send('a', { account: 'a', cents: 100 });
    await driver.send('a', { account: 'a', cents: -30 });
    await driver.send('a', { account: 'a', cents: -500 }); // overdraft: dead letter
    await driver.send('a', { account: 'a', cents: 5 }, { partition: 1 }); // another partition, another store
    expect(driver.output('updates').map((r) => r.value.balance)).toEqual([100, 70, 5]);
    expect(driver.deadLetters().map((d) => d.reason)).toEqual(['handler threw: insufficient funds']);
    expect((await driver.store('balances')).get('a')).toBe(70);
    expect((await driver.store('balances', 1)).get('a')).toBe(5);
  });

  it('lets a test seed a store and read every entry back', async () => {
    const driver = new TestDriver(balances());
    const state = await driver.store('balances');
    state.put('a', 10);
    state.put('b', 20);
    state.delete('b');
    await driver.send('a', { account: 'a', cents: 5 });
    expect(driver.output('updates')[0]?.value).toEqual({ account: 'a', balance: 15 });
    expect([...(await driver.store('balances')).entries()]).toEqual([['a', 15]]);
  });

  it("with onError: 'stop', a failing record rejects its send and leaves the state as it was", async () => {
    const driver = new TestDriver(defineProcessor({ ...balances(), onError: 'stop' }));
    await driver.send('a', { account: 'a', cents: 10 });
    await expect(driver.send('a', { account: 'a', cents: -20 })).rejects.toBeInstanceOf(HandlerError);
    expect((await driver.store('balances')).get('a')).toBe(10);
  });

  it('names the stores there are when asked for one that is not', async () => {
    const driver = new TestDriver(balances());
    await expect(driver.store('nope' as 'balances')).rejects.toThrow(/no such store \(stores: balances\)/);
  });

  it('reset() forgets the state too', async () => {
    const driver = new TestDriver(balances());
    await driver.send('a', { account: 'a', cents: 10 });
    driver.reset();
    expect((await driver.store('balances')).get('a')).toBeUndefined();
  });
});

describe('TestDriver with tombstones (topic(name, { ..., tombstones: true }))', () => {
  // A profile per user: a tombstone on the input deletes the user's entry and writes a tombstone downstream.
  const names = () =>
    defineProcessor({
      id: 'names',
      input: topic('profiles', { key: string(), value: json<{ name: string }>(), tombstones: true }),
      stores: { names: store({ key: string(), value: string() }) },
      outputs: { names: topic('names', { key: string(), value: string(), tombstones: true }) },
      handle(record, { stores }) {
        const user = record.key ?? 'anonymous';
        if (record.value === null) {
          stores.names.delete(user);
          return { names: [{ key: user, value: null }] };
        }
        stores.names.put(user, record.value.name);
        return { names: [{ key: user, value: record.value.name }] };
      },
    });

  it('hands the handler value null, and writes the tombstones it returns', async () => {
    const driver = new TestDriver(names());
    await driver.send('u1', { name: 'Ada' });
    await driver.send('u2', { name: 'Grace' });
    await driver.send('u1', null);
    expect(driver.output('names').map((r) => [r.key, r.value])).toEqual([
      ['u1', 'Ada'],
      ['u2', 'Grace'],
      ['u1', null],
    ]);
    expect([...(await driver.store('names')).entries()]).toEqual([['u2', 'Grace']]);
    expect(driver.deadLetters()).toEqual([]);
  });

  it('keeps dead-lettering tombstones on an input that does not accept them', async () => {
    const strict = defineProcessor({
      id: 'strict',
      input: topic('profiles', { key: string(), value: json<{ name: string }>() }),
      outputs: { names: topic('names', { value: string() }) },
      handle: (record) => ({ names: [{ value: record.value.name }] }),
    });
    const driver = new TestDriver(strict);
    await driver.sendRaw({ key: Buffer.from('u1'), value: null });
    expect(driver.deadLetters().map((d) => d.reason)).toEqual([
      'value: record has no value (a tombstone; topic(name, { ..., tombstones: true }) accepts them)',
    ]);
  });

  it('refuses a null value on an output without tombstones (a dead letter, as any bad output)', async () => {
    const driver = new TestDriver(
      defineProcessor({
        id: 'bad-null',
        input: topic('profiles', { key: string(), value: json<{ name: string }>(), tombstones: true }),
        outputs: { names: topic('names', { value: json<string>() }) },
        handle: () => ({ names: [{ value: null as unknown as string }] }),
      }),
    );
    await driver.send('u1', null);
    // json() encodes null as the text "null": a value, not a tombstone; the output topic did not ask for them.
    expect(driver.output('names').map((r) => r.value)).toEqual([null]);
  });
});
