import type { RecordError } from '@exactly/core';

/** Topics the processor needs do not exist, and it was not asked to create them. */
export class MissingTopicsError extends Error {
  override readonly name = 'MissingTopicsError';
  constructor(readonly topics: readonly string[]) {
    super(
      `these topics do not exist: ${topics.join(', ')}. Create them, or run with --create-topics ` +
        '(createTopics: true in run() options).',
    );
  }
}

/** `onError: 'stop'` met a bad record: everything before it was committed, nothing after it. */
export class ProcessorStoppedError extends Error {
  override readonly name = 'ProcessorStoppedError';
  constructor(readonly recordError: RecordError) {
    super(`stopped on a bad record (onError: 'stop'): ${recordError.message}`, { cause: recordError });
  }
}

/** Start-up could not reach Kafka within its deadline (`startupTimeoutMs`). */
export class KafkaUnreachableError extends Error {
  override readonly name = 'KafkaUnreachableError';
  constructor(
    readonly brokers: readonly string[],
    readonly waitedMs: number,
    cause: unknown,
  ) {
    super(
      `could not reach Kafka at ${brokers.join(', ')} within ${Math.round(waitedMs / 1000)} s: ${reasonOf(cause)}. ` +
        'Check the addresses (--brokers, KAFKA_BROKERS) and that the cluster is up; --startup-timeout waits longer.',
      { cause },
    );
  }
}

/** An error's message without its closing period, with its code when the message does not say it. */
function reasonOf(error: unknown): string {
  const message = (error instanceof Error ? error.message : String(error)).replace(/\.+$/, '');
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}
