/** Where a record came from, attached to every per-record error so a person can find the record. */
export interface RecordLocation {
  readonly topic: string;
  readonly partition?: number;
  readonly offset?: string;
}

/** A processor definition or option is wrong. `field` names what to fix. Thrown at construction, never per record. */
export class ExactlyConfigError extends Error {
  override readonly name = 'ExactlyConfigError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** The kinds of per-record failure; each is written to the dead-letter topic as `exactly.error.kind`. */
export type RecordErrorKind = 'decode' | 'handler' | 'encode';

/** Base class of the errors that send one input record to the dead-letter topic. */
export abstract class RecordError extends Error {
  abstract readonly kind: RecordErrorKind;
  constructor(
    readonly location: RecordLocation,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${reason} (${describeLocation(location)})`, options);
  }
}

/** The input record's key or value could not be decoded by its serde. */
export class DecodeError extends RecordError {
  override readonly name = 'DecodeError';
  readonly kind = 'decode' as const;
}

/** The handler threw (or its promise rejected) for this record. */
export class HandlerError extends RecordError {
  override readonly name = 'HandlerError';
  readonly kind = 'handler' as const;
}

/** An output returned by the handler could not be encoded for its topic. */
export class EncodeError extends RecordError {
  override readonly name = 'EncodeError';
  readonly kind = 'encode' as const;
}

export function describeLocation(location: RecordLocation): string {
  const parts = [`topic ${location.topic}`];
  if (location.partition !== undefined) parts.push(`partition ${location.partition}`);
  if (location.offset !== undefined) parts.push(`offset ${location.offset}`);
  return parts.join(', ');
}

/** The message of anything thrown, for logs and dead-letter headers. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : (JSON.stringify(error) ?? String(error));
}
