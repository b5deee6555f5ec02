import { parseArgs } from 'node:util';
import { verifyExactlyOnce } from '@exactly/testkit';
import { resolveConnection } from '../brokers.js';

const USAGE =
  'usage: exactly verify --input <topic> --outputs <t1,t2> [--brokers host:port | --local] [--expect per-input=N]\n                      [--config client.properties] [--dead-letter <topic>] [--timeout ms]';

/**
 * `exactly verify`: checks a drained run from the topics alone (outputs need provenance headers: run the
 * processor with --provenance). Prints a JSON verdict; exit code 1 on any violation.
 */
export async function verifyCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      input: { type: 'string' },
      outputs: { type: 'string' },
      'dead-letter': { type: 'string' },
      brokers: { type: 'string' },
      config: { type: 'string' },
      local: { type: 'boolean', default: false },
      expect: { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.input || !values.outputs) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  let expectPerInput = 1;
  if (values.expect) {
    const match = /^per-input=(\d+)$/.exec(values.expect);
    if (!match) throw new Error(`--expect must look like per-input=N, got '${values.expect}'`);
    expectPerInput = Number(match[1]);
  }
  const connection = await resolveConnection(values, (line) => process.stderr.write(`${line}\n`));
  const started = Date.now();
  const verdict = await verifyExactlyOnce({
    ...connection,
    input: values.input,
    outputs: values.outputs
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean),
    expectPerInput,
    deadLetter: values['dead-letter'],
    timeoutMs: values.timeout ? Number(values.timeout) : undefined,
  });
  process.stdout.write(`${JSON.stringify({ ...verdict, seconds: (Date.now() - started) / 1000 }, null, 2)}\n`);
  return verdict.ok ? 0 : 1;
}
