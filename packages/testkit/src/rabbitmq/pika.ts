import { execFile } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The pika version the interop tests use (the one RabbitMQ's tutorial code was checked with). */
const PIKA = 'pika==1.4.4';

/**
 * A Python with pika (RabbitMQ's classic Python client, an independent AMQP client for interop tests):
 * EXACTLY_PYTHON if set; else a virtual environment in the tools cache (the one `.ci/run` makes), made on first
 * use from PyPI when it is missing, so that `pnpm test` needs only python3 with venv.
 */
export async function pythonWithPika(): Promise<string> {
  const given = process.env.EXACTLY_PYTHON?.trim();
  if (given) return given;
  const tools = process.env.EXACTLY_TOOLS_DIR ?? join(homedir(), '.cache', 'exactly', 'tools');
  const venv = join(tools, 'pika-venv');
  const python = join(venv, 'bin', 'python');
  const hasPika = await run(python, ['-c', 'import pika']).then(
    () => true,
    () => false,
  );
  if (hasPika) return python;
  try {
    await run('python3', ['-m', 'venv', '--clear', venv]);
    await run(join(venv, 'bin', 'pip'), ['install', '-q', PIKA]);
  } catch (error) {
    throw new Error(
      `could not make a Python virtual environment with ${PIKA} in ${venv} (needs python3 with venv, e.g. apt-get install python3-venv, and PyPI), or set EXACTLY_PYTHON: ${String(error)}`,
    );
  }
  return python;
}
