import { randomBytes } from 'node:crypto';
import {
  type CompressionAlgorithmValue,
  type CreateRecordsBatchOptions,
  kGetApi,
  type MessageRecord,
  NumericMap,
  Producer,
  produceV10,
  produceV11,
  Reader,
  readRecordsBatch,
  type Writer,
} from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { nodeWritesZstd } from '../src/adapters/compression.js';
import { createProduceRequest, writeProduceRequestsInOnePass } from '../src/adapters/platformatic/produce-request.js';

/** The bytes a request puts on the wire after its header. */
const bytesOf = (writer: Writer): Buffer => writer.buffer;

/** Copies, because the client's builder writes default partitions and timestamps into the messages it is given. */
const copies = (messages: readonly MessageRecord[]): MessageRecord[] => messages.map((m) => ({ ...m }));

const T0 = 1_764_000_000_000n;

function message(topic: string, partition: number, i: number, extra: Partial<MessageRecord> = {}): MessageRecord {
  return {
    topic,
    partition,
    key: Buffer.from(`key-${i}`),
    value: randomBytes(1 + (i % 5) * 300),
    timestamp: T0 + BigInt((i * 7919) % 1000), // not in order: the batch's max is not its last
    ...extra,
  };
}

function options(extra: Partial<CreateRecordsBatchOptions> = {}): Partial<CreateRecordsBatchOptions> {
  const sequences = new NumericMap();
  sequences.set('right:2', 1_234);
  sequences.set('7:0', 5);
  return { producerId: 4_242n, producerEpoch: 3, transactionalId: 'exactly-tx', sequences, ...extra };
}

const codecs: CompressionAlgorithmValue[] = ['none', 'snappy', 'lz4', ...(nodeWritesZstd ? (['zstd'] as const) : [])];

describe("Produce v11 requests written in one pass: byte for byte the client's", () => {
  const mixed: MessageRecord[] = [
    ...Array.from({ length: 40 }, (_, i) => message(i % 3 ? 'right' : 'left', (i * 5) % 4, i)),
    message('7', 0, 40), // a topic named like a number: the client's grouping puts it first
    message('right', 2, 41, { key: undefined }), // no key
    message('right', 2, 42, { value: null as unknown as Buffer }), // a tombstone
    message('left', 1, 43, { key: Buffer.alloc(0), value: Buffer.alloc(0) }), // empty, not null
    message('left', 1, 44, {
      headers: new Map([
        [Buffer.from('exactly.source.topic'), Buffer.from('orders')],
        [Buffer.from('trace'), randomBytes(200)],
      ]),
    }),
    message('left', 3, 45, { value: randomBytes(70_000) }), // lengths of three varint bytes
  ];

  for (const compression of codecs) {
    it(`mixed topics, partitions, keys, tombstones and headers (${compression})`, () => {
      const ours = createProduceRequest(-1, 30_000, copies(mixed), options({ compression }));
      const theirs = produceV11.createRequest(-1, 30_000, copies(mixed), options({ compression }));
      expect(bytesOf(ours).equals(bytesOf(theirs))).toBe(true);
    });
  }

  it('a batch of 20,000 records (offset deltas of three varint bytes), idempotent without a transaction', () => {
    const many = Array.from({ length: 20_000 }, (_, i) => message('big', 0, i, { value: Buffer.from(`v${i}`) }));
    const plain = { producerId: 9n, producerEpoch: 0, sequences: new NumericMap() };
    const ours = createProduceRequest(-1, 5_000, copies(many), plain);
    const theirs = produceV11.createRequest(-1, 5_000, copies(many), plain);
    expect(bytesOf(ours).equals(bytesOf(theirs))).toBe(true);
  });

  it('without a producer id, and acks 0 (no response expected)', () => {
    const few = [message('t', 0, 1), message('t', 1, 2)];
    const ours = createProduceRequest(0, 1_000, copies(few), {});
    const theirs = produceV11.createRequest(0, 1_000, copies(few), {});
    expect(bytesOf(ours).equals(bytesOf(theirs))).toBe(true);
    expect(ours.context.noResponse).toBe(true);
  });

  it("stamps records without a timestamp with the time of writing, as the client's reader reads them back", () => {
    const before = BigInt(Date.now());
    const request = createProduceRequest(-1, 1_000, [message('t', 0, 1, { timestamp: undefined })], options());
    const after = BigInt(Date.now());
    // transactional id, acks, timeout, topics, name, partitions, partition index, records' length: then the batch
    const reader = Reader.from(bytesOf(request));
    reader.readNullableString();
    reader.readInt16();
    reader.readInt32();
    reader.readUnsignedVarInt();
    reader.readString();
    reader.readUnsignedVarInt();
    reader.readInt32();
    reader.readUnsignedVarInt();
    const batch = readRecordsBatch(reader);
    expect(batch.firstTimestamp >= before && batch.firstTimestamp <= after).toBe(true);
    expect(batch.records[0]?.timestampDelta).toBe(0n);
    expect(batch.producerId).toBe(4_242n);
  });
});

describe('a producer told to write its requests in one pass', () => {
  const apisSymbol = (producer: Producer) =>
    Object.getOwnPropertySymbols(producer).find((s) => s.description === 'plt.kafka.base.apis') as symbol;

  function producerListing(produceMaxVersion: number): Producer<Buffer, Buffer, Buffer, Buffer> {
    const producer = new Producer({ clientId: 'one-pass-test', bootstrapBrokers: ['127.0.0.1:1'] });
    // The broker's API list, as the client keeps it after connecting (so no connection is made here).
    (producer as unknown as Record<symbol, unknown>)[apisSymbol(producer)] = [
      { name: 'Produce', minVersion: 3, maxVersion: produceMaxVersion },
      { name: 'Metadata', minVersion: 0, maxVersion: 12 },
    ];
    return producer;
  }

  const lookUp = (producer: Producer, name: string) =>
    new Promise<{ key: number; version: number; api: unknown } | undefined>((resolve, reject) =>
      (producer[kGetApi] as (n: string, cb: (e: Error | null, api?: { key: number; version: number }) => void) => void)(
        name,
        (error, api) => (error ? reject(error) : resolve(api && { key: api.key, version: api.version, api })),
      ),
    );

  it("gets the one-pass Produce v11 where the client picks v11, and the client's own for everything else", async () => {
    const producer = producerListing(12);
    writeProduceRequestsInOnePass(producer);
    const produce = await lookUp(producer, 'Produce');
    expect(produce).toMatchObject({ key: 0, version: 11 });
    expect(produce?.api).not.toBe(produceV11.api);
    expect(await lookUp(producer, 'Metadata')).toMatchObject({ key: 3, version: 12 });
    await producer.close();
  });

  it("keeps the client's own builder where the broker stops below v11", async () => {
    const producer = producerListing(10);
    writeProduceRequestsInOnePass(producer);
    const produce = await lookUp(producer, 'Produce');
    expect(produce).toMatchObject({ key: 0, version: 10 });
    expect(produce?.api).toBe(produceV10.api);
    await producer.close();
  });
});
