import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { connect } from 'amqplib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pythonWithPika, type RabbitMQ, startRabbitMQ } from '../src/index.js';
import { isAlive } from '../src/kafka/processes.js';

const exec = promisify(execFile);

/**
 * The local RabbitMQ of the test kit (Debian's package, its own epmd): a durable queue and a persistent message
 * survive a crash of the node, pika (Python, an independent client) publishes to it, and stop leaves no process.
 */
let server: RabbitMQ;

beforeAll(async () => {
  server = await startRabbitMQ({ localOnly: true });
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

/** Command lines of every process on the machine. */
function processes(): string[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n');
}

describe('a local RabbitMQ', () => {
  test('keeps a durable queue and a persistent message across a crash of the node', async () => {
    const local = server.local;
    if (!local) throw new Error('expected a local node');
    const queue = 'exactly-crash-proof';
    const before = await connect(server.url);
    before.on('error', () => {}); // the crash ends it
    const channel = await before.createConfirmChannel();
    await channel.assertQueue(queue, { durable: true, arguments: { 'x-single-active-consumer': true } });
    channel.sendToQueue(queue, Buffer.from('survives'), { persistent: true, messageId: 'm-1' });
    await channel.waitForConfirms();

    const crashed = local.pid as number;
    await local.kill();
    expect(isAlive(crashed)).toBe(false);
    await local.restart();
    expect(local.pid).not.toBe(crashed);

    const after = await connect(server.url);
    try {
      const reader = await after.createChannel();
      const declared = await reader.checkQueue(queue);
      expect(declared.messageCount).toBe(1);
      const message = await reader.get(queue, { noAck: true });
      if (!message) throw new Error('the message did not survive');
      expect(message.content.toString()).toBe('survives');
      expect(message.properties.messageId).toBe('m-1');
    } finally {
      await after.close();
    }
  });

  test('takes a message published by pika (Python)', async () => {
    const script = `
import sys, pika
connection = pika.BlockingConnection(pika.URLParameters(sys.argv[1]))
channel = connection.channel()
channel.queue_declare(queue="exactly-pika", durable=True, arguments={"x-single-active-consumer": True})
channel.confirm_delivery()
channel.basic_publish(exchange="", routing_key="exactly-pika", body=b"from pika",
                      properties=pika.BasicProperties(delivery_mode=2, message_id="p-1"))
connection.close()
`;
    await exec(await pythonWithPika(), ['-c', script, server.url], { timeout: 20_000 });
    const connection = await connect(server.url);
    try {
      const channel = await connection.createChannel();
      const message = await channel.get('exactly-pika', { noAck: true });
      if (!message) throw new Error('no message from pika');
      expect(message.content.toString()).toBe('from pika');
      expect(message.properties.messageId).toBe('p-1');
    } finally {
      await connection.close();
    }
  });

  test('stop() leaves no beam.smp or epmd of the node', async () => {
    const local = server.local;
    if (!local) throw new Error('expected a local node');
    const { pid, dir, epmdPort } = { pid: local.pid as number, dir: local.dir, epmdPort: local.epmdPort };
    const ours = (line: string) => line.includes(dir) || line.includes(`-port ${epmdPort}`);
    expect(processes().filter(ours).length).toBeGreaterThan(0);
    await server.stop();
    expect(isAlive(pid)).toBe(false);
    expect(processes().filter(ours)).toEqual([]);
  });
});
