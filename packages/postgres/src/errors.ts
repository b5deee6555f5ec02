/** Another owner has taken one of the batch's partitions: this owner's transaction must not commit. */
export class FencedError extends Error {
  override readonly name = 'FencedError';
  readonly kind = 'fenced';
}

/**
 * PostgreSQL refused a batch's rows. `refused`: the data (a constraint, a value its column cannot hold), which is
 * the input's fault: it becomes a dead letter. `fatal`: the table itself (missing, a column it lacks, no
 * privilege), which no retry mends: the processor stops, saying what to change.
 */
export class TableWriteError extends Error {
  override readonly name = 'TableWriteError';
  constructor(
    readonly kind: 'refused' | 'fatal',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A failed row write as a TableWriteError when its SQLSTATE says whose fault it is; anything else unchanged. */
export function classifyWriteError(error: unknown, tables: readonly string[]): unknown {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return error;
  const message = error instanceof Error ? error.message : String(error);
  const where = `table ${tables.join(', ')}`;
  // 22: data exception (a value out of range, the wrong type); 23: integrity constraint (unique, not null, check).
  if (code.startsWith('22') || code.startsWith('23'))
    return new TableWriteError('refused', `${where} refused a row: ${message}`, { cause: error });
  // 42: the statement does not fit the table (undefined table or column, no privilege).
  if (code.startsWith('42'))
    return new TableWriteError(
      'fatal',
      `${where}: ${message} (the handler's rows must match the table's columns, and the database user needs INSERT on it)`,
      { cause: error },
    );
  return error;
}
