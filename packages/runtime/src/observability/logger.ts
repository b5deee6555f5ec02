import { type LevelWithSilent, type Logger, pino } from 'pino';

export type { Logger };

/** JSON lines on stderr (stdout stays free for the progress line and the user's output). */
export function createLogger(level: LevelWithSilent = 'info', bindings: Record<string, string> = {}): Logger {
  return pino({ level, base: { ...bindings }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));
}
