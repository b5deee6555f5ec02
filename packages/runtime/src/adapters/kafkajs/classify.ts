import { ClientError, type ErrorKind } from '../../port/errors.js';
import { KAFKA_ERRORS, kafkaErrorName, withHint } from '../../port/kafka-errors.js';
import { securityFailure } from '../../port/security-errors.js';

interface KafkaJsErrorLike {
  readonly name?: string;
  readonly type?: string;
  readonly code?: number;
  readonly message?: string;
  readonly retriable?: boolean;
  readonly cause?: unknown;
}

/** KafkaJS errors about its own connections: the broker is away or slow; try again later. */
const CONNECTION_ERRORS = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSStaleTopicMetadataAssignment',
  'KafkaJSLockTimeout',
  'KafkaJSGroupCoordinatorNotFound',
]);

/**
 * Decoding failures of a fetched batch: our codecs' words, KafkaJS's decoder running off the end, and KafkaJS
 * without a codec ("LZ4 compression not implemented"; its other NotImplemented errors are not about a batch).
 */
const UNREADABLE =
  /could not be decompressed|Attempt to access memory outside buffer bounds|compression not implemented/;

/**
 * KafkaJS reports any failure during a SASL login as KafkaJSSASLAuthenticationError, a connection closed or
 * timed out by a restarting broker included: only the broker refusing the credentials is fatal.
 */
const TRANSIENT_SASL =
  /Connection (closed|error)|timed? ?out|ECONNRESET|ECONNREFUSED|EPIPE|socket hang up|not connected/i;

/** Maps anything a KafkaJS call threw to a ClientError with the engine's kind. */
export function classifyKafkaJsError(error: unknown): ClientError {
  if (error instanceof ClientError) return error;
  const root = unwrap(error);
  const code = errorName(root);
  const transientLogin = root.name === 'KafkaJSSASLAuthenticationError' && TRANSIENT_SASL.test(root.message ?? '');
  if (transientLogin) {
    return new ClientError('retriable', 'SASL_LOGIN_INTERRUPTED', root.message ?? String(error), { cause: error });
  }
  const security = securityFailure({
    codes: [root.name, code, (root as { code?: unknown }).code].filter((c): c is string => typeof c === 'string'),
    message: root.message ?? String(error),
    cause: error,
  });
  if (security) return security;
  // A record batch KafkaJS cannot decode (a codec it lacks, a corrupt batch): every fetch meets it again.
  if (UNREADABLE.test(root.message ?? '')) {
    return new ClientError('fatal', 'UNREADABLE_RECORD_BATCH', `a record batch cannot be read: ${root.message}`, {
      cause: error,
    });
  }
  const known = code ? KAFKA_ERRORS[code] : undefined;
  const message = withHint(code ?? '', `${code ? `${code}: ` : ''}${root.message ?? String(error)}`);
  return new ClientError(kindOf(root, known?.kind), code ?? root.name ?? 'UNKNOWN', message, { cause: error });
}

function kindOf(root: KafkaJsErrorLike, known: ErrorKind | undefined): ErrorKind {
  if (known) return known;
  if (root.name && CONNECTION_ERRORS.has(root.name)) return 'retriable';
  // KafkaJS's transaction state machine refusing a call: the producer is in an unusable state.
  if (/Transaction state exception|Cannot continue to use transaction|Invalid state/i.test(root.message ?? '')) {
    return 'abortable';
  }
  if (root.name === 'KafkaJSProtocolError' && root.retriable) return 'retriable';
  return 'abortable';
}

/** KafkaJS wraps the error that exhausted its retries; the original says what happened. */
function unwrap(error: unknown): KafkaJsErrorLike {
  let current = error as KafkaJsErrorLike;
  for (let depth = 0; depth < 5; depth++) {
    const isWrapper =
      current?.name === 'KafkaJSNumberOfRetriesExceeded' || current?.name === 'KafkaJSNonRetriableError';
    if (!isWrapper || !current.cause || typeof current.cause !== 'object') break;
    current = current.cause as KafkaJsErrorLike;
  }
  return current ?? {};
}

/** The protocol's name for a broker error, found by its code (KafkaJS uses older names for a few codes). */
function errorName(error: KafkaJsErrorLike): string | undefined {
  if (error.name !== 'KafkaJSProtocolError' && error.type === undefined) return undefined;
  const code =
    error.type === 'KAFKAJS_UNKNOWN_ERROR_CODE'
      ? Number(/Unknown error code (-?\d+)/.exec(error.message ?? '')?.[1])
      : error.code;
  if (code === undefined || Number.isNaN(code)) return error.type;
  return kafkaErrorName(code) ?? error.type ?? `ERROR_CODE_${code}`;
}
