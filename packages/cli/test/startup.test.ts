import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defineProcessor, ExactlyConfigError, json, topic } from '@exactly/core';
import { KafkaUnreachableError, run } from '@exactly/runtime';
import { describe, expect, it } from 'vitest';

// Start-up fails fast and says why: no broker is needed (nothing listens on 127.0.0.1:1).
const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const processorFile = fileURLToPath(new URL('../../../examples/order-router/src/main.ts', import.meta.url));
const nowhere = '127.0.0.1:1';

interface Ran {
  readonly code: number | null;
  readonly output: string;
  /** Milliseconds from the start to the first line of output that matched `firstMatch`, if any. */
  readonly firstMatchMs: number | undefined;
  readonly ms: number;
}

function exactly(args: string[], firstMatch?: RegExp, extraEnv: NodeJS.ProcessEnv = {}): Promise<Ran> {
  const { KAFKA_BROKERS: _ignored, ...inherited } = process.env;
  const env = { ...inherited, ...extraEnv };
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let firstMatchMs: number | undefined;
    const take = (chunk: Buffer) => {
      output += chunk.toString();
      if (firstMatchMs === undefined && firstMatch?.test(output)) firstMatchMs = performance.now() - started;
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('exit', (code) => resolve({ code, output, firstMatchMs, ms: performance.now() - started }));
  });
}

describe('exactly: start-up that fails fast and says why', () => {
  it('--version prints the version', async () => {
    const { code, output } = await exactly(['--version']);
    expect(code).toBe(0);
    expect(output.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('run without brokers stops with how to give them, instead of starting a Kafka', async () => {
    const { code, output } = await exactly(['run', processorFile]);
    expect(code).toBe(2);
    expect(output).toContain('exactly: no brokers: give them with --brokers host:port');
    expect(output).toContain('--local');
  });

  it('a broker address that is not host:port is refused at once', async () => {
    const { code, output } = await exactly(['run', processorFile, '--brokers', 'notaport']);
    expect(code).toBe(1);
    expect(output).toContain("brokers: 'notaport' is not a broker address: give host:port");
  });

  it.each(['platformatic', 'kafkajs'])(
    '%s: an unreachable cluster is reported within 2 s, naming it, and given up at the start-up timeout',
    async (client) => {
      const { code, output, firstMatchMs, ms } = await exactly(
        ['run', processorFile, '--brokers', nowhere, '--startup-timeout', '3000', '--client', client],
        /"brokers":"127\.0\.0\.1:1".*Kafka not reachable yet/,
      );
      expect(firstMatchMs, output.slice(0, 2000)).toBeLessThan(2000);
      expect(output).toMatch(/"givingUpInS":[1-3]\b/);
      expect(output).toContain(`exactly: could not reach Kafka at ${nowhere} within 3 s`);
      expect(output).toMatch(/within 3 s: [^\n]*ECONNREFUSED/); // what went wrong, whatever the client's words
      expect(code).toBe(1);
      expect(ms).toBeLessThan(15_000);
    },
    30_000,
  );
});

describe('exactly run: loading the processor file', () => {
  const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/loading/${name}`, import.meta.url));
  // Node strips TypeScript's types itself from 22.18 and 24 on: then tsx (its hooks thread, esbuild) stays unloaded.
  const nodeStrips = Boolean(process.features.typescript);

  it.each([
    ['erasable.ts', nodeStrips ? 'node' : 'tsx'],
    ['with-enum.ts', 'tsx'], // syntax Node does not strip
    ['type-import.ts', 'tsx'], // a type imported as a value: Node finds no such export
  ])('%s is loaded by %s, and the run goes on to connect', async (file, loader) => {
    const { code, output } = await exactly(['run', fixture(file), '--brokers', nowhere, '--startup-timeout', '500']);
    expect(output).toContain(`processor loaded by ${loader}\n`);
    expect(output).toContain(`could not reach Kafka at ${nowhere}`);
    expect(code).toBe(1);
  });

  it('EXACTLY_TYPESCRIPT=tsx loads through tsx what Node could run (for tsconfig settings Node ignores)', async () => {
    const { code, output } = await exactly(
      ['run', fixture('erasable.ts'), '--brokers', nowhere, '--startup-timeout', '500'],
      undefined,
      { EXACTLY_TYPESCRIPT: 'tsx' },
    );
    expect(output).toContain('processor loaded by tsx\n');
    expect(code).toBe(1);
  });

  it("a TypeScript import written './processor.js' (the examples' style) loads: Node cannot resolve it, tsx can", async () => {
    const { code, output } = await exactly(['run', processorFile, '--brokers', nowhere, '--startup-timeout', '500']);
    expect(output).toContain(`could not reach Kafka at ${nowhere}`);
    expect(code).toBe(1);
  });
});

describe('run(): start-up options', () => {
  const processor = defineProcessor({
    id: 'startup',
    input: topic('startup.in', { value: json<{ id: number }>() }),
    outputs: { out: topic('startup.out', { value: json<{ id: number }>() }) },
    handle: ({ value }) => ({ out: [{ value }] }),
  });

  it('an AbortSignal ends a start-up that is still trying', async () => {
    const controller = new AbortController();
    const started = performance.now();
    const running = run(processor, { brokers: nowhere, logLevel: 'silent', signal: controller.signal });
    setTimeout(() => controller.abort(new Error('shutting down')), 300);
    await expect(running).rejects.toThrow('shutting down');
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('startupTimeoutMs gives up with a KafkaUnreachableError naming the brokers', async () => {
    const failed = run(processor, { brokers: [nowhere], logLevel: 'silent', startupTimeoutMs: 1000 });
    await expect(failed).rejects.toBeInstanceOf(KafkaUnreachableError);
    await expect(failed).rejects.toThrow(`could not reach Kafka at ${nowhere} within`);
  });

  it('brokers must be host:port', async () => {
    await expect(run(processor, { brokers: 'kafka-1', logLevel: 'silent' })).rejects.toThrow(ExactlyConfigError);
    await expect(run(processor, { brokers: 'kafka-1:99999', logLevel: 'silent' })).rejects.toThrow(
      "'kafka-1:99999' is not a broker address",
    );
    await expect(
      run(processor, { brokers: '[::1]:9092,kafka-2.example:9093', logLevel: 'silent', startupTimeoutMs: 1 }),
    ).rejects.toBeInstanceOf(KafkaUnreachableError);
  });
});
