import { createServer, request, type Server } from 'node:http';

/**
 * A loopback pass-through in front of Apicurio's Confluent-compatible API, for the one answer where it differs
 * from Confluent's: `GET /config/{subject}` for a subject without a level of its own. Confluent answers 404 (or
 * the global level); Apicurio 3.0.9 answers NONE, which Confluent clients that check the subject's level before
 * registering (@kafkajs/confluent-schema-registry) take as a mismatch. The proxy asks Apicurio for that call
 * with `defaultToGlobal=true` (Confluent's own parameter); every other request and answer passes untouched.
 */
export function startCcompatProxy(target: URL): Promise<{ readonly port: number; close(): Promise<void> }> {
  const server: Server = createServer((incoming, outgoing) => {
    let path = incoming.url ?? '/';
    if (incoming.method === 'GET' && /\/config\/[^/?]+$/.test(path)) path += '?defaultToGlobal=true';
    const upstream = request(
      { host: target.hostname, port: target.port, method: incoming.method, path, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    upstream.on('error', (error) => {
      outgoing.writeHead(502, { 'content-type': 'application/json' });
      outgoing.end(JSON.stringify({ error_code: 50201, message: `registry unreachable: ${error.message}` }));
    });
    incoming.pipe(upstream);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      resolve({ port, close: () => new Promise<void>((done) => server.close(() => done())) });
    });
  });
}
