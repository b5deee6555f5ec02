// Avro checks that need no registry. The round trips, schema ids and wire compatibility are tested against a
// registry in packages/testkit/test/avro.test.ts (core must not depend on testkit).
import { describe, expect, it } from 'vitest';
import { avro, ExactlyConfigError } from '../src/index.js';
import { frame, MAGIC_BYTE, unframe } from '../src/serdes/confluent-wire.js';

const schema = { type: 'record', name: 'Audit', fields: [{ name: 'at', type: 'long' }] };

describe('avro() without a registry', () => {
  it('refuses an invalid schema when it is created', () => {
    const error = (() => {
      try {
        avro({ type: 'record', name: 'Bad', fields: [{ name: 'x', type: 'nope' }] });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ExactlyConfigError);
    expect((error as ExactlyConfigError).field).toBe('avro(schema)');
    expect((error as ExactlyConfigError).message).toContain('undefined type name: nope');
  });

  it('accepts the schema as JSON text or as a bare type name', () => {
    expect(avro(JSON.stringify(schema)).name).toBe('avro');
    expect(avro('long').name).toBe('avro');
  });

  it('refuses an empty subject', () => {
    expect(() => avro(schema, { subject: '' })).toThrow('avro(options.subject): must be a non-empty string');
  });

  it('refuses setup without a registry, naming the topic and saying what to pass', async () => {
    const setup = avro(schema).setup?.({ topic: 'audit', role: 'value', registry: undefined });
    await expect(setup).rejects.toBeInstanceOf(ExactlyConfigError);
    await expect(setup).rejects.toMatchObject({ field: "topic('audit').value" });
    await expect(setup).rejects.toThrow('needs a schema registry');
  });

  it('throws a clear error when used before setup', () => {
    const serde = avro<{ at: bigint }>(schema);
    expect(() => serde.serialize({ at: 1n })).toThrow('avro(Audit) is not bound to a topic yet');
    expect(() => serde.deserialize(Buffer.from([0, 0, 0, 0, 1, 2]))).toThrow('is not bound to a topic yet');
  });
});

describe('Confluent wire framing', () => {
  it('is magic byte 0, a 4-byte big-endian id, then the body', () => {
    const framed = frame(0x01020304, Buffer.from([0xaa, 0xbb]));
    expect([...framed]).toEqual([MAGIC_BYTE, 1, 2, 3, 4, 0xaa, 0xbb]);
    expect(unframe(framed)).toEqual({ schemaId: 0x01020304, body: Buffer.from([0xaa, 0xbb]) });
  });

  it('refuses a wrong magic byte and bytes too short to be framed', () => {
    expect(() => unframe(Buffer.from([1, 0, 0, 0, 1, 0]))).toThrow('magic byte is 1, expected 0');
    expect(() => unframe(Buffer.from([0, 0, 0]))).toThrow('3 byte(s) is too short');
  });
});
