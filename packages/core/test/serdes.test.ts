import type { StandardSchemaV1 } from '@standard-schema/spec';
import { describe, expect, it } from 'vitest';
import { bytes, json, string } from '../src/index.js';

interface Order {
  id: string;
  qty: number;
}

/** A Standard Schema validator written by hand, as zod, valibot or arktype would provide one. */
function orderSchema(options: { async?: boolean } = {}): StandardSchemaV1<unknown, Order> {
  const validate = (value: unknown): StandardSchemaV1.Result<Order> => {
    const issues: StandardSchemaV1.Issue[] = [];
    const record = (value ?? {}) as Record<string, unknown>;
    if (typeof record.id !== 'string') issues.push({ message: 'expected a string', path: ['id'] });
    if (typeof record.qty !== 'number') issues.push({ message: 'expected a number', path: [{ key: 'qty' }] });
    return issues.length > 0 ? { issues } : { value: { id: String(record.id), qty: Number(record.qty) } };
  };
  return {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate: (value) => (options.async ? Promise.resolve(validate(value)) : validate(value)),
    },
  };
}

describe('string()', () => {
  const serde = string();

  it('round-trips UTF-8 text', async () => {
    const text = 'grüße, 世界 🚀';
    const encoded = await serde.serialize(text);
    expect(encoded).toEqual(Buffer.from(text, 'utf8'));
    expect(await serde.deserialize(encoded)).toBe(text);
  });

  it('refuses bytes that are not UTF-8 instead of inventing U+FFFD', () => {
    expect(() => serde.deserialize(Buffer.from([0xc3, 0x28]))).toThrow('not valid UTF-8');
  });

  it('refuses a value that is not a string', () => {
    expect(() => serde.serialize(42 as never)).toThrow('expected a string, got number');
  });
});

describe('bytes()', () => {
  const serde = bytes();

  it('passes bytes through untouched', async () => {
    const raw = Buffer.from([0, 1, 254, 255]);
    expect(await serde.serialize(raw)).toBe(raw);
    expect(await serde.deserialize(raw)).toBe(raw);
  });

  it('refuses a value that is not a Buffer', () => {
    expect(() => serde.serialize('text' as never)).toThrow('expected a Buffer');
  });
});

describe('json()', () => {
  it('round-trips a value', async () => {
    const serde = json<Order>();
    const encoded = await serde.serialize({ id: 'a', qty: 2 });
    expect(encoded.toString('utf8')).toBe('{"id":"a","qty":2}');
    expect(await serde.deserialize(encoded)).toEqual({ id: 'a', qty: 2 });
  });

  it('refuses malformed JSON and invalid UTF-8', () => {
    const serde = json<Order>();
    expect(() => serde.deserialize(Buffer.from('{"id": '))).toThrow('not valid JSON');
    expect(() => serde.deserialize(Buffer.from([0xff, 0xfe]))).toThrow('not valid JSON');
  });

  it('refuses a value JSON cannot write', () => {
    expect(() => json<unknown>().serialize(undefined)).toThrow('cannot be written as JSON');
    expect(() => json<unknown>().serialize(1n)).toThrow(/BigInt/);
  });

  it('checks decoded values with a Standard Schema validator, naming each path', () => {
    const serde = json<Order>({ schema: orderSchema() });
    expect(serde.deserialize(Buffer.from('{"id":"a","qty":1}'))).toEqual({ id: 'a', qty: 1 });
    expect(() => serde.deserialize(Buffer.from('{"id":1}'))).toThrow(
      'schema validation failed: id: expected a string; qty: expected a number',
    );
  });

  it('checks outputs with the validator before writing them', () => {
    const serde = json<Order>({ schema: orderSchema() });
    expect(() => serde.serialize({ id: 'a' } as Order)).toThrow('qty: expected a number');
  });

  it('supports asynchronous validators', async () => {
    const serde = json<Order>({ schema: orderSchema({ async: true }) });
    await expect(serde.deserialize(Buffer.from('{"id":"a","qty":3}'))).resolves.toEqual({ id: 'a', qty: 3 });
    await expect(serde.deserialize(Buffer.from('{"qty":3}'))).rejects.toThrow('id: expected a string');
    await expect(serde.serialize({ id: 'b', qty: 1 })).resolves.toEqual(Buffer.from('{"id":"b","qty":1}'));
  });
});
