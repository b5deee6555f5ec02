import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { run } from '@exactly/runtime';
import { freePort, generateRecords, readTopic } from '@exactly/testkit';
import { describe, expect, inject, it } from 'vitest';
import { fanOut } from './fixtures/fan-out.js';
import { CLIENTS, freshTopics, ids, range } from './helpers.js';

// Kafka coming up after the processor: start-up retries until it answers (a service started beside its broker).
// Kafka is reached through a port on which nothing listens at first; a forwarder to the real broker opens there
// a few seconds later. Found by the RabbitMQ chaos run: a failed first connect was kept, and retried forever.
const brokers = inject('kafkaBrokers');

describe.each(CLIENTS)('start-up before Kafka answers, %s', (client) => {
  it('retries until Kafka is there, then processes each record once', async () => {
    const topics = await freshTopics(brokers, `late-kafka-${client}`, 1);
    await generateRecords({ brokers, topic: topics.input, count: 50 });
    const port = await freePort();
    const sockets = new Set<Socket>();
    const forwarder = createServer((socket) => {
      const upstream = tcpConnect({ host: '127.0.0.1', port: Number(String(brokers).split(':')[1]) });
      for (const s of [socket, upstream]) {
        sockets.add(s);
        s.on('error', () => s.destroy());
        s.on('close', () => sockets.delete(s));
      }
      socket.pipe(upstream).pipe(socket);
    });
    const late = setTimeout(() => forwarder.listen(port, '127.0.0.1'), 3_000);
    const started = Date.now();
    try {
      const running = await run(fanOut(topics), {
        brokers: `127.0.0.1:${port}`,
        client,
        startupTimeoutMs: 45_000,
        logLevel: 'silent',
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(3_000);
      try {
        expect(ids(await readTopic(brokers, topics.left, { minRecords: 50, timeoutMs: 30_000 }))).toEqual(range(50));
      } finally {
        await running.stop();
      }
    } finally {
      clearTimeout(late);
      for (const socket of sockets) socket.destroy();
      forwarder.close();
    }
  });
});
