import type { Readable, Writable } from 'node:stream';

/**
 * Copies a worker's output to the supervisor's, a whole line at a time, so that the lines of several workers
 * never interleave mid-line; `onLine` sees each line too (the supervisor keeps the tail of a worker's stderr).
 */
export function forwardLines(from: Readable, to: Writable, onLine?: (line: string) => void): void {
  let partial = '';
  from.setEncoding('utf8');
  from.on('data', (chunk: string) => {
    const text = partial + chunk;
    const end = text.lastIndexOf('\n');
    if (end === -1) {
      partial = text;
      return;
    }
    partial = text.slice(end + 1);
    const lines = text.slice(0, end + 1);
    to.write(lines);
    if (onLine) for (const line of lines.split('\n').slice(0, -1)) onLine(line);
  });
  from.on('end', () => {
    if (partial === '') return;
    to.write(`${partial}\n`);
    onLine?.(partial);
  });
}
