#!/usr/bin/env node
import { UsageError } from './brokers.js';
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => exit(code),
  (error: unknown) => {
    process.stderr.write(`exactly: ${error instanceof Error ? error.message : String(error)}\n`);
    exit(error instanceof UsageError ? 2 : 1);
  },
);

/**
 * The command's work is done (a processor has stopped and closed its clients): end the process even if a
 * client library left a timer or socket behind. The short delay lets piped output drain.
 */
function exit(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 500).unref();
}
