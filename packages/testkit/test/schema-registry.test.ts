import { randomUUID } from 'node:crypto';
import { confluentSchemaRegistry } from '@exactly/core';
import { afterAll, describe, expect, it } from 'vitest';
import { TestSchemaRegistry } from '../src/index.js';

// These tests hold testkit's test registry (the fallback for machines without Java) to Confluent's documented
// REST API: codes, shapes, compatibility. The tests of avro() run against a real registry (Apicurio) instead.
const registry = await TestSchemaRegistry.start();
afterAll(() => registry.stop());
const against = () => 'against the test registry';

/** Subjects unique to this run, so the tests also work against a shared real registry. */
const run = randomUUID().slice(0, 8);
const subject = (name: string) => `exactly-test-${run}-${name}`;

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

interface Reply {
  readonly status: number;
  readonly contentType: string | null;
  // biome-ignore lint/suspicious/noExplicitAny: JSON replies are read field by field in the assertions
  readonly body: any;
}

async function call(method: string, path: string, body?: unknown): Promise<Reply> {
  const response = await fetch(`${registry.url}${path}`, {
    method,
    headers: { 'content-type': CONTENT_TYPE, accept: CONTENT_TYPE },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type'), body: JSON.parse(text) };
}

const v1 = {
  type: 'record',
  name: 'Order',
  namespace: 'test.exactly',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'qty', type: 'int' },
  ],
};
/** v1 plus a field with a default: BACKWARD compatible (a v2 reader fills in the default for v1 data). */
const v2 = { ...v1, fields: [...v1.fields, { name: 'note', type: 'string', default: '' }] };
/** v1 plus a field without a default: a v3 reader cannot read v1 data, so BACKWARD refuses it. */
const v3 = { ...v1, fields: [...v1.fields, { name: 'priority', type: 'int' }] };

const register = (to: string, schema: object) =>
  call('POST', `/subjects/${encodeURIComponent(to)}/versions`, { schema: JSON.stringify(schema) });

describe(`schema registry REST API ${against()}`, () => {
  it('registers a schema under a subject and answers in Confluent JSON', async () => {
    const orders = subject('orders-value');
    const registered = await register(orders, v1);
    expect(registered.status).toBe(200);
    expect(registered.contentType).toContain(CONTENT_TYPE);
    expect(registered.body).toEqual({ id: expect.any(Number) });

    const byId = await call('GET', `/schemas/ids/${registered.body.id}`);
    expect(byId.status).toBe(200);
    expect(JSON.parse(byId.body.schema)).toMatchObject({ name: 'Order', type: 'record' });

    expect((await call('GET', '/subjects')).body).toContain(orders);
    expect((await call('GET', `/subjects/${orders}/versions`)).body).toEqual([1]);
    for (const version of ['1', 'latest', '-1']) {
      const found = await call('GET', `/subjects/${orders}/versions/${version}`);
      expect(found.body).toMatchObject({ subject: orders, version: 1, id: registered.body.id });
      expect(JSON.parse(found.body.schema)).toMatchObject({ name: 'Order' });
    }
  });

  it('gives the same schema the same id: twice under one subject (no new version) and under another subject', async () => {
    const a = subject('same-a');
    const first = await register(a, v1);
    const again = await register(a, v1);
    const elsewhere = await register(subject('same-b'), v1);
    expect(again.body.id).toBe(first.body.id);
    expect(elsewhere.body.id).toBe(first.body.id);
    expect((await call('GET', `/subjects/${a}/versions`)).body).toEqual([1]);
    expect((await call('GET', `/schemas/ids/${first.body.id}/versions`)).body).toEqual(
      expect.arrayContaining([
        { subject: a, version: 1 },
        { subject: subject('same-b'), version: 1 },
      ]),
    );
  });

  it('ignores whitespace when comparing schemas', async () => {
    const s = subject('spacing');
    const compact = await register(s, v1);
    const spaced = await call('POST', `/subjects/${s}/versions`, { schema: JSON.stringify(v1, null, 2) });
    expect(spaced.body.id).toBe(compact.body.id);
  });

  it('looks a schema up under a subject', async () => {
    const s = subject('lookup');
    const { body } = await register(s, v1);
    const found = await call('POST', `/subjects/${s}`, { schema: JSON.stringify(v1) });
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ subject: s, id: body.id, version: 1 });
  });

  it('under BACKWARD, accepts a compatible schema as a new version and refuses an incompatible one with 409', async () => {
    const s = subject('evolve');
    const first = await register(s, v1);
    const second = await register(s, v2);
    expect(second.status).toBe(200);
    expect(second.body.id).not.toBe(first.body.id);
    expect((await call('GET', `/subjects/${s}/versions`)).body).toEqual([1, 2]);

    const refused = await register(s, v3);
    expect(refused.status).toBe(409);
    expect([409, 40901]).toContain(refused.body.error_code); // 40901 in Confluent's newest releases
    expect(refused.body.message).toContain('incompatible');
    expect((await call('GET', `/subjects/${s}/versions`)).body).toEqual([1, 2]);
  });

  it('checks compatibility without registering', async () => {
    const s = subject('check');
    await register(s, v1);
    const ok = await call('POST', `/compatibility/subjects/${s}/versions/latest`, { schema: JSON.stringify(v2) });
    const bad = await call('POST', `/compatibility/subjects/${s}/versions/1`, { schema: JSON.stringify(v3) });
    expect(ok.body).toEqual({ is_compatible: true });
    expect(bad.body).toMatchObject({ is_compatible: false });
    expect((await call('GET', `/subjects/${s}/versions`)).body).toEqual([1]);
  });

  it('keeps compatibility per subject: NONE accepts what BACKWARD refuses', async () => {
    const s = subject('none');
    await register(s, v1);
    const set = await call('PUT', `/config/${s}`, { compatibility: 'NONE' });
    expect(set.body).toEqual({ compatibility: 'NONE' });
    expect((await call('GET', `/config/${s}`)).body).toEqual({ compatibilityLevel: 'NONE' });
    expect((await register(s, v3)).status).toBe(200);
  });

  it('reports the global level, and 40408 for a subject without a level of its own', async () => {
    const global = await call('GET', '/config');
    expect(global.body).toEqual({ compatibilityLevel: expect.stringMatching(/^[A-Z_]+$/) });
    const s = subject('no-config');
    await register(s, v1);
    const own = await call('GET', `/config/${s}`);
    expect(own.status).toBe(404);
    expect(own.body.error_code).toBe(40408);
    expect((await call('GET', `/config/${s}?defaultToGlobal=true`)).body).toEqual(global.body);
    expect((await call('PUT', `/config/${s}`, { compatibility: 'SIDEWAYS' })).body.error_code).toBe(42203);
  });

  describe('errors, with Confluent codes', () => {
    it('40401 for an unknown subject', async () => {
      const unknown = subject('never-registered');
      for (const reply of [
        await call('GET', `/subjects/${unknown}/versions`),
        await call('GET', `/subjects/${unknown}/versions/latest`),
        await call('POST', `/subjects/${unknown}`, { schema: JSON.stringify(v1) }),
      ]) {
        expect(reply.status).toBe(404);
        expect(reply.contentType).toContain(CONTENT_TYPE);
        expect(reply.body).toEqual({ error_code: 40401, message: expect.stringContaining(unknown) });
      }
    });

    it('40403 for an unknown schema id, and for a schema not under the subject', async () => {
      const byId = await call('GET', '/schemas/ids/2147483000');
      expect(byId.status).toBe(404);
      expect(byId.body).toEqual({ error_code: 40403, message: expect.stringContaining('not found') });
      const s = subject('other-schema');
      await register(s, v1);
      const lookup = await call('POST', `/subjects/${s}`, { schema: JSON.stringify(v2) });
      expect(lookup.status).toBe(404);
      expect(lookup.body.error_code).toBe(40403);
    });

    it('40402 for an unknown version, 42202 for a malformed one', async () => {
      const s = subject('versions');
      await register(s, v1);
      const missing = await call('GET', `/subjects/${s}/versions/7`);
      expect(missing.status).toBe(404);
      expect(missing.body.error_code).toBe(40402);
      const malformed = await call('GET', `/subjects/${s}/versions/seven`);
      expect(malformed.status).toBe(422);
      expect(malformed.body.error_code).toBe(42202);
    });

    it('42201 for an invalid schema', async () => {
      const reply = await call('POST', `/subjects/${subject('invalid')}/versions`, {
        schema: JSON.stringify({ type: 'record', name: 'Bad', fields: [{ name: 'x', type: 'no-such-type' }] }),
      });
      expect(reply.status).toBe(422);
      expect(reply.body.error_code).toBe(42201);
    });
  });
});

describe(`confluentSchemaRegistry() ${against()}`, () => {
  const client = confluentSchemaRegistry({ url: registry.url });

  it('registers with an explicit subject, and fetches the schema text by id', async () => {
    const s = subject('client');
    const id = await client.register(s, JSON.stringify(v1));
    expect((await call('GET', `/subjects/${s}/versions/latest`)).body.id).toBe(id);
    expect(await client.register(s, JSON.stringify(v1))).toBe(id);
    const text = await client.schemaById(id);
    expect(JSON.parse(text)).toMatchObject({ type: 'record', name: 'test.exactly.Order' });
    expect(JSON.parse(text).fields.map((f: { name: string }) => f.name)).toEqual(['id', 'qty']);
  });

  it('reports an unknown id and an incompatible schema plainly', async () => {
    await expect(client.schemaById(2147483001)).rejects.toThrow('the registry has no schema with id 2147483001');
    const s = subject('client-evolve');
    await client.register(s, JSON.stringify(v1));
    await expect(client.register(s, JSON.stringify(v3))).rejects.toThrow(/incompatible/);
  });

  it('refuses a schema without a name, which its library cannot register', async () => {
    await expect(client.register(subject('primitive'), '"long"')).rejects.toThrow('named Avro schemas only');
  });
});
