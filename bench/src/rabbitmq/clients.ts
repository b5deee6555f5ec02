// The two Node AMQP 0-9-1 clients considered for the RabbitMQ bridge, side by side on what the bridge does:
// (a) publish N persistent 1 KB messages to a durable queue on a confirm channel, in windows of `window`
// outstanding confirms (one window = one batch); (b) consume them with manual ack, prefetch `window`, acking
// each window with multiple=true. Interleaved, `runs` runs each; medians of msgs/s and CPU ms per 100k.
// Also checks, per library, whether a mandatory publish's basic.return reaches us before its confirm.
// Run: node --import tsx bench/src/rabbitmq/clients.ts --url amqp://guest:guest@127.0.0.1:5672/%2F
import { parseArgs } from 'node:util';
import type { ConsumeMessage } from 'amqplib';
import amqplib from 'amqplib';
import type { AsyncMessage } from 'rabbitmq-client';
import { Connection } from 'rabbitmq-client';
import { median } from '../stats.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    url: { type: 'string', default: 'amqp://guest:guest@127.0.0.1:5672/%2F' },
    n: { type: 'string', default: '100000' },
    window: { type: 'string', default: '500' },
    runs: { type: 'string', default: '3' },
  },
});
const url = values.url;
const n = Number(values.n);
const win = Number(values.window);
const runs = Number(values.runs);
const body = Buffer.alloc(1024, 'x');
const log = (line: string) => process.stdout.write(`${line}\n`);

interface Lib {
  readonly name: string;
  publish(queue: string): Promise<void>;
  consume(queue: string): Promise<void>;
  /** Publishes one mandatory, unroutable message; resolves with the order the return and the confirm arrived. */
  returnOrder(): Promise<string>;
  close(): Promise<void>;
}

async function amqplibLib(): Promise<Lib> {
  const conn = await amqplib.connect(url);
  const ch = await conn.createConfirmChannel();
  return {
    name: 'amqplib 2.3.1',
    async publish(queue) {
      await ch.assertQueue(queue, { durable: true });
      for (let sent = 0; sent < n; ) {
        for (const end = Math.min(n, sent + win); sent < end; sent++) ch.sendToQueue(queue, body, { persistent: true });
        await ch.waitForConfirms();
      }
    },
    async consume(queue) {
      const cch = await conn.createChannel();
      await cch.prefetch(win);
      let seen = 0;
      await new Promise<void>((resolve) => {
        void cch.consume(queue, (msg: ConsumeMessage | null) => {
          if (msg === null) return;
          if (++seen % win === 0 || seen === n) cch.ack(msg, true);
          if (seen === n) resolve();
        });
      });
      await cch.close();
    },
    async returnOrder() {
      const order: string[] = [];
      const onReturn = () => order.push('return');
      ch.on('return', onReturn);
      await new Promise<void>((resolve, reject) =>
        ch.publish('', 'no-such-queue-anywhere', body, { mandatory: true }, (err: unknown) => {
          order.push('confirm');
          if (err) reject(err instanceof Error ? err : new Error(String(err)));
          else resolve();
        }),
      );
      await new Promise((r) => setTimeout(r, 50));
      ch.off('return', onReturn);
      return order.join(' then ');
    },
    async close() {
      await ch.close();
      await conn.close();
    },
  };
}

async function rabbitmqClientLib(): Promise<Lib> {
  const conn = new Connection(url);
  const ch = await conn.acquire();
  await ch.confirmSelect();
  return {
    name: 'rabbitmq-client 5.0.8',
    async publish(queue) {
      await ch.queueDeclare({ queue, durable: true });
      for (let sent = 0; sent < n; ) {
        const pending: Promise<void>[] = [];
        for (const end = Math.min(n, sent + win); sent < end; sent++)
          pending.push(ch.basicPublish({ routingKey: queue, durable: true }, body));
        await Promise.all(pending);
      }
    },
    async consume(queue) {
      const cch = await conn.acquire();
      await cch.basicQos({ prefetchCount: win });
      let seen = 0;
      await new Promise<void>((resolve, reject) => {
        cch
          .basicConsume({ queue }, (msg: AsyncMessage) => {
            if (++seen % win === 0 || seen === n) cch.basicAck({ deliveryTag: msg.deliveryTag, multiple: true });
            if (seen === n) resolve();
          })
          .catch(reject);
      });
      await cch.close();
    },
    async returnOrder() {
      const order: string[] = [];
      const onReturn = () => order.push('return');
      ch.on('basic.return', onReturn);
      await ch.basicPublish({ routingKey: 'no-such-queue-anywhere', mandatory: true }, body);
      order.push('confirm');
      await new Promise((r) => setTimeout(r, 50));
      ch.off('basic.return', onReturn);
      return order.join(' then ');
    },
    async close() {
      await ch.close();
      await conn.close();
    },
  };
}

async function deleteQueue(queue: string): Promise<void> {
  const conn = await amqplib.connect(url);
  const ch = await conn.createChannel();
  await ch.deleteQueue(queue);
  await conn.close();
}

type Sample = { rate: number; cpuMs: number };
async function measure(work: () => Promise<void>): Promise<Sample> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await work();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { rate: n / seconds, cpuMs: ((cpu.user + cpu.system) / 1000) * (100_000 / n) };
}

const makers = [amqplibLib, rabbitmqClientLib];
const results = new Map<string, { pub: Sample[]; con: Sample[]; order: string }>();
for (let run = 0; run < runs; run++) {
  const order = run % 2 === 0 ? makers : [...makers].reverse();
  for (const make of order) {
    const lib = await make();
    const queue = `bench-clients-${make.name}-${run}`;
    const entry = results.get(lib.name) ?? { pub: [], con: [], order: await lib.returnOrder() };
    results.set(lib.name, entry);
    const pub = await measure(() => lib.publish(queue));
    const con = await measure(() => lib.consume(queue));
    entry.pub.push(pub);
    entry.con.push(con);
    await lib.close();
    await deleteQueue(queue);
    log(
      `run ${run + 1} ${lib.name}: publish ${pub.rate.toFixed(0)}/s ${pub.cpuMs.toFixed(0)} ms CPU, consume ${con.rate.toFixed(0)}/s ${con.cpuMs.toFixed(0)} ms CPU`,
    );
  }
}

const fmt = (xs: Sample[], k: keyof Sample) => median(xs.map((x) => x[k])).toFixed(0);
log(`\nN=${n} x 1 KB persistent, durable queue, window ${win}, medians of ${runs} runs (CPU = process ms per 100k)`);
log(
  '| client | publish+confirm msg/s | publish CPU ms | consume+ack msg/s | consume CPU ms | mandatory return vs confirm |',
);
log('|---|---:|---:|---:|---:|---|');
for (const [name, r] of results)
  log(
    `| ${name} | ${fmt(r.pub, 'rate')} | ${fmt(r.pub, 'cpuMs')} | ${fmt(r.con, 'rate')} | ${fmt(r.con, 'cpuMs')} | ${r.order} |`,
  );
