/**
 * A broker error with the engine's kind (see the runtime's AmqpPort): 'fatal' (configuration: stop, saying what
 * to change), 'retriable' (the broker or the channel went away), 'refused' (a message no queue took: `index`).
 */
export class AmqpError extends Error {
  override readonly name = 'AmqpError';
  constructor(
    readonly kind: 'fatal' | 'retriable' | 'refused',
    message: string,
    options?: ErrorOptions & { readonly index?: number },
  ) {
    super(message, options);
    if (options?.index !== undefined) this.index = options.index;
  }
  readonly index?: number;
}

/** The AMQP reply code of a channel or connection error, if it has one (406 PRECONDITION_FAILED, 404 NOT_FOUND). */
export function replyCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
