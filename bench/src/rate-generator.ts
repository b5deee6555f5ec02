// Writes ~1 KB JSON records at a fixed rate for the latency phase: a small batch every 10 ms (not one burst a
// second), each record carrying its send time in the value ("sentAt"), which every contender copies to LEFT.
// The rate can change on the way: a trickle while the contender starts, then a ramp to the measured rate. The
// sending runs on a worker thread (rate-generator-thread.ts); this side keeps the count of what was sent, and when.
import { Worker } from 'node:worker_threads';
import type { FromGenerator, GeneratorStart, ToGenerator } from './rate-generator-thread.js';

export class RateGenerator {
  private sent = 0;
  private failure: string | undefined;
  /** [send time, records] of every batch, to count what was sent inside the measured window. */
  private readonly batches: Array<readonly [number, number]> = [];
  private readonly ended: Promise<void>;
  private stopping: Promise<void> | undefined;

  private constructor(private readonly thread: Worker) {
    this.ended = new Promise<void>((resolve) => {
      thread.on('message', (message: FromGenerator) => {
        if ('batch' in message) {
          this.batches.push(message.batch);
          this.sent += message.batch[1];
        } else if ('failed' in message) this.failure = message.failed;
      });
      thread.on('error', (error) => {
        this.failure ??= String(error);
      });
      thread.on('exit', () => resolve());
    });
  }

  static async start(brokers: string, topic: string, rate: number): Promise<RateGenerator> {
    const workerData: GeneratorStart = { brokers, topic, rate };
    const thread = new Worker(new URL('./rate-generator-thread.ts', import.meta.url), {
      workerData,
      execArgv: process.execArgv, // tsx, which runs the benchmark's TypeScript
    });
    const generator = new RateGenerator(thread);
    await new Promise<void>((resolve, reject) => {
      thread.on('message', (message: FromGenerator) => {
        if ('ready' in message) resolve();
        else if ('failed' in message) reject(new Error(`the rate generator failed to start: ${message.failed}`));
      });
      thread.on('exit', () => reject(new Error('the rate generator ended before it started')));
    });
    return generator;
  }

  setRate(rate: number): void {
    this.thread.postMessage({ rate } satisfies ToGenerator);
  }

  /** Records sent at or after `from` and before `to` (Date.now() times). */
  sentBetween(from: number, to: number): number {
    return this.batches.reduce((sum, [at, count]) => (at >= from && at < to ? sum + count : sum), 0);
  }

  get total(): number {
    return this.sent;
  }

  /** Stops sending, waits for the sends under way, and disconnects. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.thread.postMessage({ stop: true } satisfies ToGenerator);
      await this.ended;
      if (this.failure) throw new Error(`the rate generator failed: ${this.failure}`);
    })();
    return this.stopping;
  }
}
