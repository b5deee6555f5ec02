import { randomUUID } from 'node:crypto';
import { avro, type BoundSerde, confluentSchemaRegistry, type SchemaRegistryClient } from '@exactly/core';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avsc from 'avsc';
import { afterAll, describe, expect, it } from 'vitest';
import { registryLabel, startSchemaRegistry } from '../src/index.js';

const registry = await startSchemaRegistry();
afterAll(() => registry.stop());

const against = registryLabel;

const run = randomUUID().slice(0, 8);
const topicName = (name: string) => `exactly-avro-${run}-${name}`;

interface Order {
  id: string;
  qty: number;
  total: bigint;
  price: number;
  paid: boolean;
  note: string | null;
  tags: string[];
  attrs: Record<string, number>;
  status: 'NEW' | 'PAID';
  customer: { name: string; since: bigint };
}

const orderSchema = {
  type: 'record',
  name: 'Order',
  namespace: 'test.exactly',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'qty', type: 'int' },
    { name: 'total', type: 'long' },
    { name: 'price', type: 'double' },
    { name: 'paid', type: 'boolean' },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'attrs', type: { type: 'map', values: 'int' } },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['NEW', 'PAID'] } },
    {
      name: 'customer',
      type: {
        type: 'record',
        name: 'Customer',
        fields: [
          { name: 'name', type: 'string' },
          { name: 'since', type: 'long' },
        ],
      },
    },
  ],
};

const order: Order = {
  id: 'o-1',
  qty: 3,
  total: 2n ** 63n - 1n,
  price: 9.99,
  paid: true,
  note: null,
  tags: ['a', 'b'],
  attrs: { x: 1 },
  status: 'PAID',
  customer: { name: 'Ada', since: -(2n ** 63n) },
};

/** Counts the calls that reach the registry, to prove what is cached. */
function counting(client: SchemaRegistryClient) {
  const calls = { register: 0, schemaById: 0 };
  const counted: SchemaRegistryClient = {
    register: (subject, schema) => {
      calls.register++;
      return client.register(subject, schema);
    },
    schemaById: (id) => {
      calls.schemaById++;
      return client.schemaById(id);
    },
  };
  return { client: counted, calls };
}

const client = confluentSchemaRegistry({ url: registry.url });

async function bound<T>(schema: object, topic: string, registryClient = client, role: 'key' | 'value' = 'value') {
  const serde = avro<T>(schema);
  return (await serde.setup?.({ topic, role, registry: registryClient })) as BoundSerde<T>;
}

async function latestId(subject: string): Promise<number> {
  const response = await fetch(`${registry.url}/subjects/${subject}/versions/latest`);
  return ((await response.json()) as { id: number }).id;
}

describe(`avro() ${against(registry)}`, () => {
  it('round-trips every kind of field, longs as exact bigints', async () => {
    const serde = await bound<Order>(orderSchema, topicName('orders'));
    const bytes = await serde.serialize(order);
    const decoded = await serde.deserialize(bytes);
    expect(decoded).toEqual(order);
    expect(decoded.total).toBe(9223372036854775807n);
    expect(decoded.customer.since).toBe(-9223372036854775808n);
    expect(typeof decoded.qty).toBe('number');
  });

  it('frames records as magic byte 0, the 4-byte big-endian schema id, then Avro binary', async () => {
    const topic = topicName('framing');
    const serde = await bound<Order>(orderSchema, topic);
    const bytes = await serde.serialize(order);
    const id = await latestId(`${topic}-value`);
    expect(bytes[0]).toBe(0);
    expect(bytes.readInt32BE(1)).toBe(id);
    // The body is plain Avro binary: avsc alone reads it (with its own bigint-free long for a small value).
    const plain = avsc.Type.forSchema({ type: 'record', name: 'P', fields: [{ name: 'n', type: 'long' }] });
    const small = await bound<{ n: bigint }>(
      { type: 'record', name: 'P', fields: [{ name: 'n', type: 'long' }] },
      topic,
      client,
      'key',
    );
    expect(plain.fromBuffer((await small.serialize({ n: 5n })).subarray(5))).toEqual({ n: 5 });
  });

  it('registers under <topic>-key and <topic>-value by default, or under the subject given', async () => {
    const topic = topicName('subjects');
    await bound<Order>(orderSchema, topic, client, 'key');
    await bound<Order>(orderSchema, topic, client, 'value');
    await avro<Order>(orderSchema, { subject: `${topic}-custom` }).setup?.({ topic, role: 'value', registry: client });
    const subjects = (await (await fetch(`${registry.url}/subjects`)).json()) as string[];
    expect(subjects).toEqual(expect.arrayContaining([`${topic}-key`, `${topic}-value`, `${topic}-custom`]));
  });

  it('registers once per subject, not per record or per binding', async () => {
    const { client: counted, calls } = counting(client);
    const serde = avro<Order>(orderSchema);
    const topic = topicName('once');
    const first = await serde.setup?.({ topic, role: 'value', registry: counted });
    await serde.setup?.({ topic, role: 'value', registry: counted });
    for (let i = 0; i < 3; i++) await first?.serialize(order);
    expect(calls.register).toBe(1);
    await serde.setup?.({ topic: topicName('once-other'), role: 'value', registry: counted });
    expect(calls.register).toBe(2);
  });

  describe('refuses values that do not match the schema, naming the field', () => {
    it.each([
      [
        'a long given as a number',
        { ...order, total: 5 },
        "field 'total' is number 5, expected long (Avro longs are bigint",
      ],
      ['a missing field', { ...order, id: undefined }, "field 'id' is missing (expected string)"],
      [
        'a nested field',
        { ...order, customer: { name: 7, since: 1n } },
        "field 'customer.name' is number 7, expected string",
      ],
      ['an array item', { ...order, tags: ['a', 1] }, "field 'tags.1' is number 1, expected string"],
      [
        'an unknown enum symbol',
        { ...order, status: 'LOST' },
        "field 'status' is a string, expected test.exactly.Status",
      ],
      ['a long beyond 64 bits', { ...order, total: 2n ** 63n }, "field 'total' is 9223372036854775808n, expected long"],
    ])('%s', async (_, value, message) => {
      const serde = await bound<Order>(orderSchema, topicName('invalid'));
      expect(() => serde.serialize(value as Order)).toThrow(message);
      expect(() => serde.serialize(value as Order)).toThrow('value does not match Avro schema test.exactly.Order');
    });
  });

  describe('refuses input that is not a record of its schema', () => {
    it('a wrong magic byte, or too few bytes for the header', async () => {
      const serde = await bound<Order>(orderSchema, topicName('malformed'));
      const bytes = await serde.serialize(order);
      const wrongMagic = Buffer.from(bytes);
      wrongMagic[0] = 1;
      expect(() => serde.deserialize(wrongMagic)).toThrow('magic byte is 1, expected 0');
      expect(() => serde.deserialize(Buffer.from('{"id":1}'))).toThrow('magic byte is 123');
      expect(() => serde.deserialize(bytes.subarray(0, 3))).toThrow('too short');
    });

    it('a truncated body, or trailing bytes', async () => {
      const topic = topicName('truncated');
      const serde = await bound<Order>(orderSchema, topic);
      const bytes = await serde.serialize(order);
      const id = await latestId(`${topic}-value`);
      expect(() => serde.deserialize(bytes.subarray(0, bytes.length - 3))).toThrow(
        `Avro body does not match schema id ${id}: truncated buffer`,
      );
      expect(() => serde.deserialize(Buffer.concat([bytes, Buffer.from([0])]))).toThrow('trailing data');
    });

    it('a schema id the registry does not know', async () => {
      const serde = await bound<Order>(orderSchema, topicName('unknown-id'));
      const bytes = Buffer.from(await serde.serialize(order));
      bytes.writeInt32BE(2147480000, 1);
      await expect(serde.deserialize(bytes)).rejects.toThrow(
        'writer schema id 2147480000 could not be fetched: the registry has no schema with id 2147480000',
      );
    });

    it('the id of a schema that cannot be read as this one', async () => {
      const other = { type: 'record', name: 'Shipment', fields: [{ name: 'where', type: 'string' }] };
      const shipments = await bound<{ where: string }>(other, topicName('shipments'));
      const written = await shipments.serialize({ where: 'Lyon' });
      const orders = await bound<Order>(orderSchema, topicName('wrong-id'));
      await expect(orders.deserialize(written)).rejects.toThrow(
        /written with schema id \d+ \(Shipment\) cannot be read as test\.exactly\.Order/,
      );
    });
  });

  describe('schema evolution through the registry', () => {
    const v1 = { type: 'record', name: 'Item', fields: [{ name: 'id', type: 'string' }] };
    const v2 = {
      type: 'record',
      name: 'Item',
      fields: [
        { name: 'id', type: 'string' },
        { name: 'count', type: 'long', default: 7 },
      ],
    };

    it('reads data written with an older schema, filling defaults, and fetches each writer schema once', async () => {
      const topic = topicName('evolve');
      const writer = await bound<{ id: string }>(v1, topic);
      const old = await writer.serialize({ id: 'a' });
      const { client: counted, calls } = counting(client);
      const reader = await bound<{ id: string; count: bigint }>(v2, topic, counted);
      expect(await reader.deserialize(old)).toEqual({ id: 'a', count: 7n });
      await reader.deserialize(old);
      await reader.deserialize(old);
      expect(calls.schemaById).toBe(1);
    });

    it('reads data written with a newer schema, dropping what it does not know', async () => {
      const topic = topicName('evolve-forward');
      await bound(v1, topic);
      const newer = await bound<{ id: string; count: bigint }>(v2, topic);
      const oldReader = await avro<{ id: string }>(v1).setup?.({ topic, role: 'value', registry: client });
      expect(await oldReader?.deserialize(await newer.serialize({ id: 'b', count: 1n }))).toEqual({ id: 'b' });
    });

    it('fails set-up when the registry refuses the schema as incompatible', async () => {
      const topic = topicName('evolve-refused');
      await bound(v1, topic);
      const v3 = {
        type: 'record',
        name: 'Item',
        fields: [
          { name: 'id', type: 'string' },
          { name: 'must', type: 'int' },
        ],
      };
      await expect(avro(v3).setup?.({ topic, role: 'value', registry: client })).rejects.toThrow(
        new RegExp(`registering avro\\(Item\\) under subject '${topic}-value' failed: .*incompatible`),
      );
    });
  });

  describe('wire compatibility, checked with @kafkajs/confluent-schema-registry alone', () => {
    const library = new SchemaRegistry({ host: registry.url });
    const simple = {
      type: 'record',
      name: 'Payment',
      namespace: 'test.exactly',
      fields: [
        { name: 'id', type: 'string' },
        { name: 'cents', type: 'long' },
        { name: 'ok', type: 'boolean' },
      ],
    };

    it('a record written by avro() decodes with the library', async () => {
      const serde = await bound<{ id: string; cents: bigint; ok: boolean }>(simple, topicName('ours'));
      const decoded = await library.decode(await serde.serialize({ id: 'p1', cents: 1234n, ok: true }));
      expect(decoded).toEqual({ id: 'p1', cents: 1234, ok: true });
    });

    it('a record written by the library decodes with avro()', async () => {
      const topic = topicName('theirs');
      const { id } = await library.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(simple) },
        { subject: `${topic}-value` },
      );
      const written = await library.encode(id, { id: 'p2', cents: 99, ok: false });
      expect(written[0]).toBe(0);
      expect(written.readInt32BE(1)).toBe(id);
      const serde = await bound<{ id: string; cents: bigint; ok: boolean }>(simple, topic);
      expect(await serde.deserialize(written)).toEqual({ id: 'p2', cents: 99n, ok: false });
    });

    it('a long of 2^63-1 survives both ways (the library given avsc with a bigint long)', async () => {
      const bigintLong = avsc.types.LongType.__with({
        fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
        toBuffer: (n: bigint) => {
          const buf = Buffer.alloc(8);
          buf.writeBigInt64LE(n);
          return buf;
        },
        fromJSON: BigInt,
        toJSON: Number,
        isValid: (n: unknown) => typeof n === 'bigint',
        compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
      });
      const precise = new SchemaRegistry(
        { host: registry.url },
        { [SchemaType.AVRO]: { typeHook: (schema) => (schema === 'long' ? bigintLong : undefined) } },
      );
      const max = 2n ** 63n - 1n;
      const topic = topicName('max-long');
      const serde = await bound<{ id: string; cents: bigint; ok: boolean }>(simple, topic);
      const ours = await serde.serialize({ id: 'max', cents: max, ok: true });
      expect((await precise.decode(ours)).cents).toBe(max);
      const theirs = await precise.encode(await latestId(`${topic}-value`), { id: 'max', cents: max, ok: true });
      expect(theirs.equals(ours)).toBe(true);
      expect((await serde.deserialize(theirs)).cents).toBe(max);
    });
  });
});
