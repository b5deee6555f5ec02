// Type tests: checked by `tsc -p tsconfig.test.json --noEmit` at the repo root. Each `@ts-expect-error` line
// must fail to compile; if it ever compiles, tsc reports the directive as unused and the check fails.
import { expectTypeOf } from 'vitest';
import {
  avro,
  bytes,
  defineProcessor,
  type HandlerOutputs,
  type InputRecord,
  json,
  type KeyValueStore,
  type NoStores,
  type OutputRecord,
  type Serde,
  type Store,
  type StoresOf,
  store,
  string,
  type Topic,
  topic,
} from '../src/index.js';

interface Order {
  id: string;
  qty: number;
}
interface Shipment {
  orderId: string;
}
interface Audit {
  orderId: string;
  at: bigint;
}

const orders = topic('orders', { key: string(), value: json<Order>() });
const shipments = topic('shipments', { key: string(), value: json<Shipment>() });
const audit = topic('audit', { value: avro<Audit>({ type: 'record', name: 'Audit', fields: [] }) });
const blobs = topic('blobs', { key: bytes(), value: bytes() });

// Topics carry their key and value types; the key defaults to string.
expectTypeOf(orders).toEqualTypeOf<Topic<string, Order>>();
expectTypeOf(audit).toEqualTypeOf<Topic<string, Audit>>();
expectTypeOf(blobs).toEqualTypeOf<Topic<Buffer, Buffer>>();
expectTypeOf(avro<Audit>('long')).toEqualTypeOf<Serde<Audit>>();

const outputs = { shipments, audit };

// record.value and record.key are typed from the input topic.
defineProcessor({
  id: 'typed-record',
  input: orders,
  outputs,
  handle(record) {
    expectTypeOf(record).toEqualTypeOf<InputRecord<string, Order>>();
    expectTypeOf(record.value).toEqualTypeOf<Order>();
    expectTypeOf(record.key).toEqualTypeOf<string | null>();
    expectTypeOf(record.offset).toEqualTypeOf<string>();
    expectTypeOf(record.headers).toEqualTypeOf<Readonly<Record<string, string>>>();
    return {};
  },
});

// A correct handler compiles, and so does an async one.
defineProcessor({
  id: 'ok',
  input: orders,
  outputs,
  handle: (record) => ({
    shipments: [{ key: record.key, value: { orderId: record.value.id } }],
    audit: [{ value: { orderId: record.value.id, at: BigInt(record.timestamp) } }],
  }),
});
defineProcessor({
  id: 'async-ok',
  input: orders,
  outputs,
  async handle(record) {
    await Promise.resolve();
    return { shipments: [{ value: { orderId: record.value.id } }] };
  },
});

// Returning nothing is fine.
defineProcessor({ id: 'nothing', input: orders, outputs, handle: () => undefined });

// Each call below holds exactly one mistake, on the line after its directive.

// An unknown output name fails to compile.
defineProcessor({
  id: 'unknown-output',
  input: orders,
  outputs,
  // @ts-expect-error 'shipment' is not an output name (the output is 'shipments')
  handle: (record) => ({ shipment: [{ value: { orderId: record.value.id } }] }),
});

// An unknown output name fails in an async handler too.
defineProcessor({
  id: 'unknown-output-async',
  input: orders,
  outputs,
  // @ts-expect-error 'nope' is not an output name
  handle: async () => ({ nope: [{ value: 'x' }] }),
});

// A value of the wrong type fails to compile.
defineProcessor({
  id: 'wrong-value',
  input: orders,
  outputs,
  // @ts-expect-error shipments take a Shipment, not an Order
  handle: (record) => ({ shipments: [{ value: record.value }] }),
});

// An Avro long is a bigint, not a number.
defineProcessor({
  id: 'wrong-long',
  input: orders,
  outputs,
  // @ts-expect-error `at` is an Avro long: bigint
  handle: (record) => ({ audit: [{ value: { orderId: record.value.id, at: record.timestamp } }] }),
});

// A key of the wrong type fails to compile.
defineProcessor({
  id: 'wrong-key',
  input: orders,
  outputs,
  // @ts-expect-error shipments keys are strings
  handle: (record) => ({ shipments: [{ key: record.value.qty, value: { orderId: record.value.id } }] }),
});

// Reading a field the input value does not have fails to compile.
defineProcessor({
  id: 'wrong-field',
  input: orders,
  outputs,
  handle: (record) => {
    // @ts-expect-error Order has no `orderId`
    const orderId: string = record.value.orderId;
    return { shipments: [{ value: { orderId } }] };
  },
});

// Literal types in output values are kept (discriminated unions work without `as const`), sync and async,
// and a wrong literal fails.
type Event = { kind: 'shipped'; orderId: string } | { kind: 'cancelled'; reason: string };
const events = topic('events', { value: json<Event>() });
defineProcessor({
  id: 'literal-ok',
  input: orders,
  outputs: { events },
  handle: (record) => ({ events: [{ value: { kind: 'shipped', orderId: record.value.id } }] }),
});
defineProcessor({
  id: 'literal-ok-async',
  input: orders,
  outputs: { events },
  async handle() {
    return { events: [{ value: { kind: 'cancelled', reason: 'out of stock' } }] };
  },
});
defineProcessor({
  id: 'literal-wrong',
  input: orders,
  outputs: { events },
  // @ts-expect-error 'lost' is no Event kind
  handle: (record) => ({ events: [{ value: { kind: 'lost', orderId: record.value.id } }] }),
});

// The result type itself: every name optional, arrays of typed records.
expectTypeOf<HandlerOutputs<typeof outputs>>().toEqualTypeOf<{
  readonly shipments?: ReadonlyArray<OutputRecord<string, Shipment>>;
  readonly audit?: ReadonlyArray<OutputRecord<string, Audit>>;
}>();

// Stores: the API of the state issue, as written there, type-checks.
const balances = defineProcessor({
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
expectTypeOf(balances.stores.balances).toEqualTypeOf<Store<string, number>>();

// A store's value type is checked: putting a string into a store of numbers does not compile.
defineProcessor({
  id: 'wrong-put',
  input: orders,
  stores: { counts: store({ value: json<number>() }) },
  outputs,
  handle(record, { stores }) {
    expectTypeOf(stores.counts).toEqualTypeOf<KeyValueStore<string, number>>();
    expectTypeOf(stores.counts.get('k')).toEqualTypeOf<number | undefined>();
    // @ts-expect-error a string is not a number
    stores.counts.put(record.value.id, 'one');
    // @ts-expect-error no store of that name
    stores.missing?.get('k');
    for (const [key, count] of stores.counts.entries()) {
      expectTypeOf(key).toEqualTypeOf<string>();
      expectTypeOf(count).toEqualTypeOf<number>();
    }
    return {};
  },
});

// A processor without stores still gets a context, with no stores in it.
defineProcessor({
  id: 'no-stores',
  input: orders,
  outputs,
  handle(_record, context) {
    expectTypeOf(context.stores).toEqualTypeOf<StoresOf<NoStores>>();
    return {};
  },
});

// Serdes given inline keep their types: a store or topic without a key serde has string keys.
const inline = defineProcessor({
  id: 'inline',
  input: orders,
  stores: { seen: store({ value: json<boolean>() }) },
  outputs: { notes: topic('notes', { value: string() }) },
  handle: () => ({}),
});
expectTypeOf(inline.stores.seen).toEqualTypeOf<Store<string, boolean>>();
expectTypeOf(inline.outputs.notes).toEqualTypeOf<Topic<string, string>>();

// Tombstones: only a topic that says it has them gives `value: V | null`, on the input and the outputs.
const profiles = topic('profiles', { key: string(), value: json<{ name: string }>(), tombstones: true });
expectTypeOf(profiles).toEqualTypeOf<Topic<string, { name: string } | null>>();
expectTypeOf(topic('p', { value: json<number>(), tombstones: true })).toEqualTypeOf<Topic<string, number | null>>();
expectTypeOf(topic('p', { value: json<number>(), tombstones: false })).toEqualTypeOf<Topic<string, number>>();
defineProcessor({
  id: 'tombstones',
  input: profiles,
  outputs: { names: topic('names', { value: string(), tombstones: true }) },
  handle(record) {
    expectTypeOf(record.value).toEqualTypeOf<{ name: string } | null>();
    // @ts-expect-error a tombstone's value may be null: it must be checked
    const name: string = record.value.name;
    void name;
    return { names: [{ value: null }] };
  },
});
defineProcessor({
  id: 'no-tombstones-out',
  input: profiles,
  outputs: { audit: topic('audit', { value: string() }) },
  // @ts-expect-error audit has no tombstones: a null value does not type-check
  handle: () => ({ audit: [{ value: null }] }),
});
