/**
 * A worker's young generation (V8's semi-spaces), unless the program was started with heap settings of its own.
 * Node's default on this class of machine is two 32 MB semi-spaces; a batch's records outlive a few scavenges
 * anyway (they wait for their transaction), so the larger young generation mostly delays garbage: the old
 * generation and the Buffers it keeps alive grow with it. Measured (`pnpm bench:profile --records 1000000
 * --partitions 6 --workers 2`): peak RSS per worker 438-500 MB with the default, 335-345 MB with 8 MB, in the same
 * time (16.5-17.0 s against 16.2-17.1 s); 4 MB was slower. Flags cannot change it once a process runs, so the
 * supervisor, which starts the workers, is where it is set.
 */
export const WORKER_SEMI_SPACE_MB = 8;

/** Flags that size V8's young generation: where the user set one, theirs stands. */
const HEAP_SIZING = /^--max-(semi-space|heap)-size(=|$)/;

/** The Node flags a worker starts with: the supervisor's own, and the young generation's size if they leave it. */
export function workerExecArgv(execArgv: readonly string[], nodeOptions = ''): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)].some((flag) => HEAP_SIZING.test(flag.replace(/_/g, '-')));
  return given ? [...execArgv] : [...execArgv, `--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`];
}
