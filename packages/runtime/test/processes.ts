import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tieToThisProcess } from '../../testkit/src/kafka/processes.js';
import type { FanOutTopics } from './fixtures/fan-out.js';

const cli = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));
const fanOutMain = fileURLToPath(new URL('./fixtures/fan-out-main.ts', import.meta.url));
const totalsMain = fileURLToPath(new URL('./fixtures/totals-main.ts', import.meta.url));

/** Short timeouts, so that a killed processor's partitions move (and its open transaction ends) quickly. */
export const FAST = ['--session-timeout', '6000', '--transaction-timeout', '10000', '--commit-interval', '50'];

export interface SpawnOptions {
  readonly client?: string;
  readonly instance?: string;
  readonly env?: Record<string, string>;
  readonly args?: string[];
}

export interface ProcessorProcess {
  readonly child: ChildProcess;
  /** Resolves with the exit code, or the signal's name, when the process ends. */
  readonly exited: Promise<number | string>;
  /** What the process wrote to stderr so far (its JSON logs). */
  output(): string;
}

/** Runs the fan-out fixture with `exactly run` in a child process (the way users run processors). */
export function spawnFanOut(brokers: string, topics: FanOutTopics, options: SpawnOptions = {}): ProcessorProcess {
  return spawnProcessor(brokers, fanOutMain, options, {
    EXACTLY_TEST_ID: topics.id,
    EXACTLY_TEST_INPUT: topics.input,
    EXACTLY_TEST_LEFT: topics.left,
    EXACTLY_TEST_RIGHT: topics.right,
  });
}

/** Runs the running-totals fixture (a processor with a store) with `exactly run` in a child process. */
export function spawnTotals(
  brokers: string,
  topics: { id: string; input: string; output: string },
  options: SpawnOptions = {},
): ProcessorProcess {
  return spawnProcessor(brokers, totalsMain, options, {
    EXACTLY_TEST_ID: topics.id,
    EXACTLY_TEST_INPUT: topics.input,
    EXACTLY_TEST_OUTPUT: topics.output,
  });
}

function spawnProcessor(
  brokers: string,
  fixture: string,
  options: SpawnOptions,
  topicEnv: Record<string, string>,
): ProcessorProcess {
  const identity = [
    ...(options.client ? ['--client', options.client] : []),
    // A restarted instance keeps its id, as a supervisor restarting a pod would.
    ...(options.instance ? ['--instance-id', options.instance] : []),
  ];
  const child = spawn(
    process.execPath,
    [
      cli,
      'run',
      fixture,
      '--brokers',
      brokers,
      '--provenance',
      '--log-level',
      'info',
      ...identity,
      ...(options.args ?? []),
    ],
    {
      env: { ...process.env, ...topicEnv, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  // A test abandoned by its timeout never stops its processors: they die with the test worker, however it ends.
  const untie = child.pid === undefined ? () => {} : tieToThisProcess(child.pid, 'SIGKILL');
  void exited.then(untie);
  return { child, exited, output: () => output };
}

/** Sends SIGKILL and waits for the process to be gone. */
export async function kill9(processor: ProcessorProcess): Promise<void> {
  processor.child.kill('SIGKILL');
  await processor.exited;
}
