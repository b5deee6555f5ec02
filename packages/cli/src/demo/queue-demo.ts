import { setTimeout as delay } from 'node:timers/promises';
import {
  type AnyExchange,
  type AnyQueue,
  type AnyTopic,
  dedupChangelogTopic,
  Headers,
  isExchange,
  isTable,
  type Processor,
} from '@exactly/core';
import { createTopics, type ExampleApp, freePort, readTopic, startRabbitMQ } from '@exactly/testkit';
import { connect } from 'amqplib';
import { ProcessorProcess } from './processor-process.js';

export interface QueueDemoOptions {
  readonly brokers: string;
  readonly app: ExampleApp;
  readonly mainFile: string;
  readonly records: number;
  readonly rate: number;
  readonly partitions: number;
  readonly crash: boolean;
  readonly say: (line: string) => void;
}

/**
 * `pnpm start --example <a queue example>`: the local RabbitMQ (`exactly rabbitmq start`'s, started if need be)
 * gets the example's messages, each with a message_id; the processor runs in its own process, is killed once with
 * SIGKILL mid-run and restarted; then independent readers check Kafka (each message once) and the queue (empty).
 */
export async function queueDemo(options: QueueDemoOptions): Promise<number> {
  const { brokers, app, records, rate, say } = options;
  const rabbit = await startRabbitMQ({ mode: 'shared' });
  process.env.RABBITMQ_URL = rabbit.url; // the processor's process reads it
  const suffix = `-demo-${Date.now().toString(36)}`;
  const processor = app.processor(suffix) as Processor & { input: AnyQueue };
  const outputs = Object.values(processor.outputs).filter((o): o is AnyTopic => !isExchange(o) && !isTable(o));
  const topics = [...outputs.map((o) => o.name), processor.deadLetter];
  const queueName = processor.input.name;
  await createTopics(brokers, [
    ...topics.map((name) => ({ name, partitions: options.partitions })),
    { name: dedupChangelogTopic(processor.id, queueName), partitions: 1, config: { 'cleanup.policy': 'compact' } },
  ]);
  const model = await connect(rabbit.url);
  const channel = await model.createConfirmChannel();
  await channel.assertQueue(queueName, { durable: true, arguments: { 'x-single-active-consumer': true } });
  const exchanges = Object.values(processor.outputs).filter(isExchange) as AnyExchange[];
  say(
    `RabbitMQ at ${rabbit.url.replace(/:[^:@/]*@/, '@')}; queue ${queueName} -> Kafka ${topics.join(', ')}` +
      (exchanges.length > 0 ? ` and exchange ${exchanges.map((e) => e.name).join(', ')}` : ''),
  );
  say(
    `Publishing ${records} messages at ${rate}/s; the processor runs in its own process${options.crash ? ' and will be killed once (SIGKILL) mid-run' : ''}.\n`,
  );
  const child = new ProcessorProcess(options.mainFile, brokers, suffix, await freePort());
  child.start();
  let published = 0;
  const publishing = (async () => {
    const started = Date.now();
    while (published < records) {
      const due = Math.min(records, Math.ceil(((Date.now() - started) / 1000) * rate) + Math.ceil(rate / 10));
      for (let i = published; i < due; i++) {
        const { key, value } = app.record(i);
        channel.sendToQueue(queueName, Buffer.from(JSON.stringify(value)), {
          persistent: true,
          messageId: String(key),
          headers: { timestamp_in_ms: Date.now() },
        });
      }
      await channel.waitForConfirms();
      published = due;
      await delay(100);
    }
  })();
  let crashed = !options.crash;
  let emptyBefore = false;
  const started = Date.now();
  try {
    for (;;) {
      await delay(500);
      const failed = child.failedWith();
      if (failed !== undefined) throw new Error(`the processor stopped (exit code ${failed}):\n${child.output.trim()}`);
      const waiting = (await channel.checkQueue(queueName)).messageCount;
      const metrics = await child.queueMetrics();
      say(
        `${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s  published ${published}/${records}  in queue ${waiting}  ` +
          `acknowledged ${metrics.acknowledged}  duplicates recognised ${metrics.duplicates}`,
      );
      if (!crashed && metrics.acknowledged >= records * 0.4) {
        crashed = true;
        await child.kill('SIGKILL');
        say('>>> processor killed with SIGKILL; what it committed and had not acknowledged comes back to the next one');
        child.start();
      }
      // Nothing ready, nothing delivered and unacknowledged (a dead process's deliveries are ready again), twice.
      const empty = published >= records && waiting === 0 && metrics.unacknowledged === 0 && metrics.acknowledged > 0;
      if (empty && emptyBefore) break;
      emptyBefore = empty;
    }
  } finally {
    await publishing.catch(() => {});
    await child.kill('SIGTERM');
  }
  const metrics = await child.queueMetrics();
  const left = (await channel.checkQueue(queueName)).messageCount;
  await model.close();
  say('Queue drained. Verifying with an independent read_committed reader...');
  const output = outputs[0]?.name ?? '';
  const read = await readTopic(brokers, output, { timeoutMs: 30_000 });
  const dead = await readTopic(brokers, processor.deadLetter, { timeoutMs: 30_000 });
  // The processor runs with --provenance: outputs and dead letters alike cite their message.
  const ids = [...read, ...dead].map((r) => r.headers[Headers.sourceMessageId] ?? '');
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  const duplicates = [...counts.values()].filter((n) => n > 1).length;
  const missing = Array.from({ length: records }, (_, i) => String(app.record(i).key)).filter((id) => !counts.has(id));
  const row = (label: string, value: string | number) => say(`  ${label.padEnd(28)}${value}`);
  say('');
  row('messages published', records);
  row(output, `${read.length} records`);
  row(processor.deadLetter, `${dead.length} dead letters`);
  row('duplicates in Kafka', duplicates);
  row('missing from Kafka', missing.length);
  row('redeliveries recognised', metrics.duplicates);
  row('left in the queue', left);
  say('');
  const ok = duplicates === 0 && missing.length === 0 && left === 0;
  say(
    ok
      ? 'EXACTLY ONCE: every message once in Kafka (as an output or a dead letter), none lost, none doubled.'
      : 'VIOLATION: see the numbers above.',
  );
  say('Kafka and RabbitMQ keep running: pnpm exactly kafka stop; pnpm exactly rabbitmq stop');
  return ok ? 0 : 1;
}
