import { spawn } from 'node:child_process';

/** Runs a tool to its end and returns its stdout; rejects with the tail of its output when it fails. */
export function runTool(command: string, args: readonly string[], options: { cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    const all: Buffer[] = [];
    const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => {
      stdout.push(chunk);
      all.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => all.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'ENOENT' ? new Error(`${command} is needed by pnpm bench and is not on PATH`) : error),
    );
    child.on('exit', (code) => {
      if (code === 0) return resolve(Buffer.concat(stdout).toString('utf8'));
      const tail = Buffer.concat(all).toString('utf8').split('\n').slice(-30).join('\n');
      reject(new Error(`${command} ${args.join(' ')} failed with exit code ${code}:\n${tail}`));
    });
  });
}
