/**
 * What the engine does about a client error. Adapters map their library's errors to one of these, so the
 * engine never looks at a client library's error types.
 * - retriable: a passing condition (leader moved, coordinator loading, network); try again after a pause.
 * - abortable: this transaction cannot commit; abort it, rewind to the committed offset, redo the batch.
 * - fenced:     a newer producer holds this transactional.id (another owner took over); never retry.
 * - membership: the group moved on (a rebalance began or ended without this member): the offsets of records
 *               fetched under the old membership can no longer commit; rewind and let the new owner redo them.
 * - refused:    the broker refused a record it will always refuse (too large for the topic, invalid there): the
 *               input record that produced it becomes a dead letter, and the batch is redone.
 * - fatal:      configuration or authorization; stop with a clear message.
 */
export type ErrorKind = 'retriable' | 'abortable' | 'fenced' | 'membership' | 'refused' | 'fatal';

export class ClientError extends Error {
  override readonly name = 'ClientError';
  constructor(
    readonly kind: ErrorKind,
    /** The broker's error name (e.g. INVALID_PRODUCER_EPOCH) or the client's, for logs. */
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isClientError(error: unknown): error is ClientError {
  return error instanceof ClientError;
}
