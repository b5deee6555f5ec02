import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { isQueue } from '@exactly/core';
import { createTopics, freePort, groupLag, topicSpecsOf, topicsOf, verifyExactlyOnce } from '@exactly/testkit';
import { resolveBrokers } from '../brokers.js';
import { startDelayProbe } from '../demo/delay-probe.js';
import { startGenerator } from '../demo/generator.js';
import { loadExample } from '../demo/load-example.js';
import { ProcessorProcess } from '../demo/processor-process.js';
import { queueDemo } from '../demo/queue-demo.js';

const USAGE =
  'usage: pnpm start [--example order-router|bank-transfer|notifications|page-views|ledger|rabbitmq-orders] [--records 20000] [--rate 2000] [--partitions 6] [--no-crash]';

/**
 * `pnpm start`: an example processor on a real local Kafka, fed by its generator, killed once mid-run with
 * SIGKILL and restarted, then checked by the exactly-once verifier.
 */
export async function demoCommand(argv: string[]): Promise<number> {
  const args = argv[0] === '--' ? argv.slice(1) : argv; // `pnpm start -- --example x` passes the `--` along
  const { values } = parseArgs({
    args,
    options: {
      example: { type: 'string', default: 'order-router' },
      records: { type: 'string', default: '20000' },
      rate: { type: 'string', default: '2000' },
      partitions: { type: 'string', default: '6' },
      'no-crash': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const records = Number(values.records);
  const rate = Number(values.rate);
  const partitions = Number(values.partitions);
  if (![records, rate, partitions].every((n) => Number.isInteger(n) && n > 0)) throw new Error(USAGE);
  const say = (line: string) => process.stdout.write(`${line}\n`);

  const { app, mainFile } = await loadExample(values.example);
  say(`Exactly demo: ${app.name}: ${app.summary}.`);
  const brokers = await resolveBrokers(undefined, say, { local: true }); // the demo is development
  if (isQueue(app.processor('').input)) {
    const crash = !values['no-crash'];
    return queueDemo({ brokers, app, mainFile, records, rate, partitions, crash, say });
  }
  const suffix = `-demo-${Date.now().toString(36)}`;
  const processor = app.processor(suffix);
  const topics = topicsOf(processor);
  await createTopics(brokers, topicSpecsOf(processor, partitions));
  say(`Kafka at ${brokers}; topics ${topics.input} -> ${topics.outputs.join(', ')} (${partitions} partitions each).`);
  say(
    `Writing ${records} records at ${rate}/s; the processor runs in its own process${values['no-crash'] ? '' : ' and will be killed once (SIGKILL) mid-run'}.\n`,
  );

  const processorProcess = new ProcessorProcess(mainFile, brokers, suffix, await freePort());
  processorProcess.start();
  const probe = await startDelayProbe(brokers, topics.outputs[0] as string);
  const generator = startGenerator(brokers, app, processor, records, rate);
  let interrupted = false;
  const onInterrupt = () => {
    interrupted = true;
    generator.stop();
  };
  process.once('SIGINT', onInterrupt);

  const started = Date.now();
  let crashed = values['no-crash'];
  let processed = 0;
  let firstProcessedAt: number | undefined;
  const tty = process.stdout.isTTY;
  let lastLine = 0;
  try {
    for (;;) {
      await delay(500);
      const failed = processorProcess.failedWith();
      if (failed !== undefined) {
        throw new Error(`the processor stopped (exit code ${failed}):\n${processorProcess.output.trim()}`);
      }
      const produced = generator.produced();
      const lag = await groupLag(brokers, processor.id, topics.input).catch(() => undefined);
      if (lag !== undefined) processed = Math.max(processed, produced - lag);
      if (processed > 0) firstProcessedAt ??= Date.now();
      const tx = await processorProcess.transactions();
      const stats = probe.stats();
      const seconds = (Date.now() - started) / 1000;
      const line =
        `${seconds.toFixed(0).padStart(3)} s  produced ${produced}/${records}  processed ${processed}  ` +
        `${Math.round(processed / Math.max(0.5, (Date.now() - (firstProcessedAt ?? Date.now())) / 1000))} rec/s  ` +
        `delay avg ${stats.average.toFixed(0)} ms p99 ${stats.p99.toFixed(0)} ms  tx ${tx.committed} committed ${tx.aborted} aborted`;
      if (tty) process.stdout.write(`\r\x1b[2K${line}`);
      else if (Date.now() - lastLine > 2000) {
        say(line);
        lastLine = Date.now();
      }
      if (!crashed && processed >= records * 0.4) {
        crashed = true;
        await processorProcess.kill('SIGKILL');
        say(
          `${tty ? '\n' : ''}>>> processor killed with SIGKILL after ${processed} records (its open transaction dies with it); restarting it`,
        );
        processorProcess.start();
      }
      if (interrupted || (produced >= records && lag === 0)) break;
    }
  } finally {
    process.off('SIGINT', onInterrupt);
    if (tty) process.stdout.write('\n');
    generator.stop();
    await generator.done.catch(() => {});
    await processorProcess.kill('SIGTERM');
    await probe.stop();
  }
  if (interrupted) {
    say(
      'Interrupted: processor stopped (its open transaction finished or aborted). Kafka keeps running: pnpm exactly kafka stop',
    );
    return 130;
  }
  const elapsed = (Date.now() - (firstProcessedAt ?? started)) / 1000;
  say('Pipeline drained. Verifying with independent read_committed readers...');
  const verdict = await verifyExactlyOnce({ brokers, ...topics });
  const delays = probe.stats();
  const tx = await processorProcess.transactions();
  const width = Math.max(22, ...verdict.outputs.map((o) => o.topic.length + 2));
  const row = (label: string, value: string | number) => say(`  ${label.padEnd(width)}${value}`);
  say('');
  row('records in', verdict.inputs);
  for (const output of verdict.outputs) row(output.topic, `${output.records} records`);
  row('duplicates', `${verdict.duplicated}`);
  row('missing', `${verdict.missing}`);
  row(
    'aborted records read',
    `${verdict.abortedRead} (of ${verdict.outputs.reduce((n, o) => n + o.abortedInLog, 0)} left in the log by the crash)`,
  );
  row('order violations', `${verdict.orderViolations}`);
  row('transactions', `${tx.committed} committed, ${tx.aborted} aborted`);
  row(
    'throughput',
    `${Math.round(verdict.inputs / Math.max(elapsed, 0.001))} records/s over ${elapsed.toFixed(1)} s (rate-limited to ${rate}/s)`,
  );
  row(
    'end-to-end delay',
    `avg ${delays.average.toFixed(0)} ms, p99 ${delays.p99.toFixed(0)} ms, max ${delays.max.toFixed(0)} ms`,
  );
  say('');
  say(
    verdict.ok
      ? 'EXACTLY ONCE: every input once on every output topic, nothing lost, nothing doubled.'
      : 'VIOLATION: see the numbers above.',
  );
  say('Kafka keeps running for the next command; stop it with: pnpm exactly kafka stop');
  return verdict.ok ? 0 : 1;
}
