// confluentSchemaRegistry() on its own. Registering and fetching through a registry server are tested in
// packages/testkit/test/schema-registry.test.ts, against the test registry or SCHEMA_REGISTRY_URL.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confluentSchemaRegistry, ExactlyConfigError } from '../src/index.js';

describe('confluentSchemaRegistry()', () => {
  let server: Server;
  let url: string;
  let connections = 0;

  beforeAll(async () => {
    // A stand-in that knows no schema: enough to see when the client connects, and how it reports a 404.
    server = createServer((_, res) => {
      res.writeHead(404, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
      res.end(JSON.stringify({ error_code: 40403, message: 'Schema 7 not found' }));
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it.each([[''], ['localhost:8081'], ['ftp://registry'], [undefined]])(
    'refuses the url %j, naming the field',
    (bad) => {
      expect(() => confluentSchemaRegistry({ url: bad as string })).toThrow(ExactlyConfigError);
      expect(() => confluentSchemaRegistry({ url: bad as string })).toThrow(/^url: /);
    },
  );

  it('opens no connection until it is first called, then reports an unknown id plainly', async () => {
    const client = confluentSchemaRegistry({ url });
    // A full round trip of our own: had the client connected when created, the server would have seen it first.
    await (await fetch(`${url}/probe`)).text();
    expect(connections).toBe(1);
    await expect(client.schemaById(7)).rejects.toThrow('the registry has no schema with id 7');
    expect(connections).toBe(2);
  });
});
