import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TestDriver } from '@exactly/testkit';
import { describe, expect, inject, it } from 'vitest';
import { loadExample } from '../src/demo/load-example.js';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const brokers = inject('kafkaBrokers');

function demo(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, 'demo', ...args], { env: { ...process.env, KAFKA_BROKERS: brokers } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('pnpm start (the demo), against a real broker', () => {
  it('runs an example, survives the mid-run SIGKILL, and the verifier finds 0 duplicates and 0 missing', async () => {
    const { code, output } = await demo([
      '--',
      '--example',
      'bank-transfer',
      '--records',
      '3000',
      '--rate',
      '3000',
      '--partitions',
      '3',
    ]);
    expect(output).toContain('>>> processor killed with SIGKILL');
    expect(output).toMatch(/records in +3000/);
    // The broker run must refuse exactly what a TestDriver refuses for the same records (invalid requests and
    // overdrafts, which depend on each customer's balance in its partition's store).
    const { app } = await loadExample('bank-transfer');
    const driver = new TestDriver(app.processor(''));
    for (let i = 0; i < 3000; i++) {
      const { key, value } = app.record(i);
      await driver.send(key, value);
    }
    const refused = driver.deadLetters().length;
    expect(refused).toBeGreaterThan(60); // 1 request in 50 is invalid on purpose, and some are overdrafts
    expect(output).toMatch(new RegExp(`debits-demo-\\S+ +${3000 - refused} records`));
    expect(output).toMatch(new RegExp(`bank-transfer-demo-\\S+\\.dlq +${refused} records`));
    expect(output).toMatch(/duplicates +0\n/);
    expect(output).toMatch(/missing +0\n/);
    expect(output).toContain('EXACTLY ONCE');
    expect(code).toBe(0);
  }, 180_000);

  it('names the examples when asked for one that does not exist', async () => {
    const { code, output } = await demo(['--example', 'nope']);
    expect(code).toBe(1);
    expect(output).toMatch(/no example 'nope' \(examples: .*order-router/);
  });
});
