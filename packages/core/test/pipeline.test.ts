import { describe, expect, it } from 'vitest';
import {
  DecodeError,
  defineProcessor,
  EncodeError,
  HandlerError,
  Headers,
  type InputRecord,
  json,
  type RawRecord,
  type RecordOutcome,
  RecordPipeline,
  string,
  topic,
} from '../src/index.js';

interface Order {
  id: string;
  qty: number;
}

const orders = topic('orders', { key: string(), value: json<Order>() });
const shipments = topic('shipments', { key: string(), value: json<{ orderId: string }>() });
const audit = topic('audit', { value: string() });

function raw(overrides: Partial<RawRecord> = {}): RawRecord {
  return {
    topic: 'orders',
    partition: 3,
    offset: '42',
    timestamp: 1_700_000_000_000,
    key: Buffer.from('k1'),
    value: Buffer.from('{"id":"o1","qty":2}'),
    headers: {},
    ...overrides,
  };
}

type Handle = (record: InputRecord<string, Order>) => unknown;

async function pipelineFor(handle: Handle, options: { provenance?: boolean } = {}) {
  const processor = defineProcessor({
    id: 'router',
    input: orders,
    outputs: { shipments, audit },
    handle: handle as never,
  });
  return RecordPipeline.create(processor as never, options);
}

function failed(outcome: RecordOutcome) {
  if (outcome.ok) throw new Error(`expected a failed outcome, got ${outcome.records.length} record(s)`);
  return outcome;
}

function succeeded(outcome: RecordOutcome) {
  if (!outcome.ok) throw new Error(`expected success, got ${outcome.error.message}`);
  return outcome.records;
}

describe('RecordPipeline', () => {
  it('decodes, hands the handler a typed record, and encodes its outputs', async () => {
    const seen: Array<InputRecord<string, Order>> = [];
    const pipeline = await pipelineFor((record) => {
      seen.push(record);
      return {
        shipments: [{ key: record.key, value: { orderId: record.value.id }, headers: { trace: 'x' } }],
        audit: [{ value: `qty=${record.value.qty}`, partition: 1 }],
      };
    });
    const records = succeeded(await pipeline.process(raw({ headers: { h: Buffer.from('v'), s: 'text' } })));
    expect(seen).toEqual([
      {
        topic: 'orders',
        partition: 3,
        offset: '42',
        timestamp: 1_700_000_000_000,
        key: 'k1',
        value: { id: 'o1', qty: 2 },
        headers: { h: 'v', s: 'text' },
      },
    ]);
    expect(records).toEqual([
      { topic: 'shipments', key: Buffer.from('k1'), value: Buffer.from('{"orderId":"o1"}'), headers: { trace: 'x' } },
      { topic: 'audit', key: null, value: Buffer.from('qty=2'), headers: {}, partition: 1 },
    ]);
  });

  it('gives a record without a key the key null', async () => {
    let key: string | null | undefined;
    const pipeline = await pipelineFor((record) => {
      key = record.key;
      return undefined;
    });
    expect(succeeded(await pipeline.process(raw({ key: null })))).toEqual([]);
    expect(key).toBeNull();
  });

  it('awaits an async handler', async () => {
    const pipeline = await pipelineFor(async (record) => {
      await Promise.resolve();
      return { audit: [{ value: record.value.id }] };
    });
    const records = succeeded(await pipeline.process(raw()));
    expect(records.map((r) => r.value?.toString())).toEqual(['o1']);
  });

  it('writes nothing for undefined, {} or an output set to undefined', async () => {
    for (const result of [undefined, {}, { shipments: undefined }, { shipments: [] }]) {
      const pipeline = await pipelineFor(() => result);
      expect(succeeded(await pipeline.process(raw()))).toEqual([]);
    }
  });

  it('lists every topic it writes to, the dead-letter topic included', async () => {
    const pipeline = await pipelineFor(() => undefined);
    expect(pipeline.outputTopics).toEqual(['shipments', 'audit', 'router.dlq']);
  });

  describe('dead letters', () => {
    it('sends a value that cannot be decoded to the dead-letter topic with exactly the documented headers', async () => {
      let called = false;
      const pipeline = await pipelineFor(() => {
        called = true;
      });
      const input = raw({ value: Buffer.from('{not json'), headers: { trace: 'abc', bin: Buffer.from([1]) } });
      const outcome = failed(await pipeline.process(input));
      expect(called).toBe(false);
      expect(outcome.error).toBeInstanceOf(DecodeError);
      expect(outcome.error.kind).toBe('decode');
      expect(outcome.error.location).toEqual({ topic: 'orders', partition: 3, offset: '42' });
      expect(outcome.error.reason).toMatch(/^value: not valid JSON/);
      expect(outcome.error.message).toContain('(topic orders, partition 3, offset 42)');
      expect(outcome.deadLetter).toEqual({
        topic: 'router.dlq',
        key: input.key,
        value: input.value,
        headers: {
          trace: 'abc',
          bin: Buffer.from([1]),
          [Headers.errorKind]: 'decode',
          [Headers.errorMessage]: outcome.error.reason,
          [Headers.sourceTopic]: 'orders',
          [Headers.sourcePartition]: '3',
          [Headers.sourceOffset]: '42',
          [Headers.sourceTimestamp]: '1700000000000',
        },
      });
      expect(Headers).toEqual({
        errorKind: 'exactly.error.kind',
        errorMessage: 'exactly.error.message',
        omitted: 'exactly.error.omitted',
        sourceTopic: 'exactly.source.topic',
        sourcePartition: 'exactly.source.partition',
        sourceOffset: 'exactly.source.offset',
        sourceTimestamp: 'exactly.source.timestamp',
        sourceQueue: 'exactly.source.queue',
        sourceMessageId: 'exactly.source.message-id',
      });
    });

    it('reports a key that cannot be decoded as a key error', async () => {
      const pipeline = await pipelineFor(() => undefined);
      const outcome = failed(await pipeline.process(raw({ key: Buffer.from([0xff]) })));
      expect(outcome.error).toBeInstanceOf(DecodeError);
      expect(outcome.error.reason).toBe('key: bytes are not valid UTF-8');
    });

    it('treats a tombstone (no value) as a decode error', async () => {
      const pipeline = await pipelineFor(() => undefined);
      const outcome = failed(await pipeline.process(raw({ value: null })));
      expect(outcome.error.reason).toBe(
        'value: record has no value (a tombstone; topic(name, { ..., tombstones: true }) accepts them)',
      );
      expect(outcome.deadLetter.value).toBeNull();
    });

    it('wraps a handler exception in a HandlerError that keeps the cause', async () => {
      const boom = new Error('boom');
      const pipeline = await pipelineFor(() => {
        throw boom;
      });
      const outcome = failed(await pipeline.process(raw()));
      expect(outcome.error).toBeInstanceOf(HandlerError);
      expect(outcome.error.reason).toBe('handler threw: boom');
      expect(outcome.error.cause).toBe(boom);
      expect(outcome.deadLetter.headers[Headers.errorKind]).toBe('handler');
    });

    it('wraps a rejected async handler the same way', async () => {
      const pipeline = await pipelineFor(async () => {
        throw 'plain string';
      });
      const outcome = failed(await pipeline.process(raw()));
      expect(outcome.error).toBeInstanceOf(HandlerError);
      expect(outcome.error.reason).toBe('handler threw: plain string');
    });

    it.each([
      [
        'a value its serde refuses',
        { audit: [{ value: 42 }] },
        'audit[0].value for topic audit: expected a string, got number',
      ],
      [
        'a key its serde refuses',
        { audit: [{ key: 7, value: 'x' }] },
        'audit[0].key for topic audit: expected a string',
      ],
      [
        'an output name that does not exist',
        { nope: [{ value: 'x' }] },
        "unknown output 'nope' (outputs: shipments, audit)",
      ],
      [
        'an output that is not an array',
        { audit: { value: 'x' } },
        "output 'audit' must be an array of records, got object",
      ],
      [
        'a record without a value',
        { audit: [{ key: 'k' }] },
        'audit[0] must be a record { key?, value, headers?, partition? }',
      ],
      [
        'a negative partition',
        { audit: [{ value: 'x', partition: -1 }] },
        'audit[0].partition must be a non-negative integer',
      ],
      ['an array instead of an object', [{ value: 'x' }], 'must return an object keyed by output name, got an array'],
    ])('refuses %s with an EncodeError', async (_, result, message) => {
      const pipeline = await pipelineFor(() => result);
      const outcome = failed(await pipeline.process(raw()));
      expect(outcome.error).toBeInstanceOf(EncodeError);
      expect(outcome.error.kind).toBe('encode');
      expect(outcome.error.reason).toContain(message);
      expect(outcome.deadLetter.headers[Headers.errorKind]).toBe('encode');
      expect(outcome.deadLetter.value).toEqual(raw().value);
    });

    it('writes none of the outputs of a record when one of them cannot be encoded', async () => {
      const pipeline = await pipelineFor(() => ({ shipments: [{ value: { orderId: 'ok' } }], audit: [{ value: 1 }] }));
      const outcome = await pipeline.process(raw());
      expect(outcome.ok).toBe(false);
      expect('records' in outcome).toBe(false);
    });
  });

  describe('provenance', () => {
    it('adds the source headers to every output when asked, keeping the handler headers', async () => {
      const pipeline = await pipelineFor(() => ({ audit: [{ value: 'x', headers: { mine: 'yes' } }] }), {
        provenance: true,
      });
      const [record] = succeeded(await pipeline.process(raw()));
      expect(record?.headers).toEqual({
        mine: 'yes',
        'exactly.source.topic': 'orders',
        'exactly.source.partition': '3',
        'exactly.source.offset': '42',
        'exactly.source.timestamp': '1700000000000',
      });
    });

    it('adds none by default', async () => {
      const pipeline = await pipelineFor(() => ({ audit: [{ value: 'x' }] }));
      const [record] = succeeded(await pipeline.process(raw()));
      expect(record?.headers).toEqual({});
    });
  });
});
