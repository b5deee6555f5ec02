// Contender "Exactly in worker threads" (on request, for the choice between worker processes and worker threads;
// docs/workers.md): BENCH_THREADS threads in one process, each running the fan-out processor with run() as one
// member of the group, with its own instance id. Stopped by SIGTERM, which stops every thread gracefully.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Processor } from '@exactly/core';
import { run } from '@exactly/runtime';

const threads = Number(process.env.BENCH_THREADS ?? 2);

if (isMainThread) {
  const workers = Array.from(
    { length: threads },
    (_, k) => new Worker(new URL(import.meta.url), { workerData: k + 1, execArgv: process.execArgv }),
  );
  const exited = workers.map((w) => new Promise<void>((resolve) => w.once('exit', () => resolve())));
  for (const worker of workers) worker.once('error', (error) => console.error(error));
  process.once('SIGTERM', () => {
    for (const worker of workers) worker.postMessage('stop');
  });
  await Promise.all(exited);
} else {
  // The fan-out or the count processor (a union of two types run() takes one at a time).
  const processor = (await import('./exactly.js')).default as unknown as Processor;
  const app = await run(processor, {
    brokers: process.env.BENCH_BROKERS ?? '',
    client: 'platformatic',
    commitIntervalMs: 100,
    logLevel: 'warn',
    instanceId: `threads-${process.pid}-t${String(workerData)}`,
  });
  parentPort?.once('message', () => void app.stop());
  await app.done;
  parentPort?.close();
}
