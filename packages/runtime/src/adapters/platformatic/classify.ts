import { ClientError, type ErrorKind } from '../../port/errors.js';
import { KAFKA_ERRORS, kafkaErrorName, withHint } from '../../port/kafka-errors.js';
import { securityFailure } from '../../port/security-errors.js';

/** The shape of @platformatic/kafka's errors: GenericError, with MultipleErrors nesting the causes. */
interface PlatformaticErrorLike {
  readonly name?: string;
  readonly code?: string;
  readonly apiId?: string;
  readonly apiCode?: number;
  readonly canRetry?: boolean;
  readonly message?: string;
  readonly errors?: readonly unknown[];
  readonly cause?: unknown;
}

/** The client's own codes for its connections: the broker is away or slow; try again later. */
const CONNECTION_CODES = new Set(['PLT_KFK_NETWORK', 'PLT_KFK_TIMEOUT', 'PLT_KFK_UNEXPECTED_CORRELATION_ID']);

/**
 * Maps anything a @platformatic/kafka call threw to a ClientError with the engine's kind. Broker errors are
 * found anywhere in the error's tree (retries wrap them in MultipleErrors) and looked up in the same table the
 * KafkaJS adapter uses; the most severe one decides.
 */
export function classifyPlatformaticError(error: unknown): ClientError {
  if (error instanceof ClientError) return error;
  const tree = [...walk(error)];
  const innermost = tree[tree.length - 1];
  const security = securityFailure({
    codes: tree.flatMap((e) => [e.code, e.apiId === undefined ? undefined : brokerName(e)]).filter(isString),
    message: innermost?.message ?? String(error),
    cause: error,
  });
  if (security) return security;
  const brokerErrors = tree.filter((e) => e.apiId !== undefined);
  const worst = brokerErrors.sort((a, b) => severity(kindOfBroker(b)) - severity(kindOfBroker(a)))[0];
  const root = error as PlatformaticErrorLike;
  if (worst?.apiId) {
    const name = brokerName(worst);
    const message = withHint(name, `${name}: ${worst.message ?? root.message ?? String(error)}`);
    return new ClientError(kindOfBroker(worst), name, message, { cause: error });
  }
  const codes = [...walk(error)].map((e) => e.code).filter((code): code is string => code !== undefined);
  const kind: ErrorKind = codes.some((code) => CONNECTION_CODES.has(code)) ? 'retriable' : 'abortable';
  return new ClientError(kind, codes[codes.length - 1] ?? root.name ?? 'UNKNOWN', root.message ?? String(error), {
    cause: error,
  });
}

const isString = (value: string | undefined): value is string => value !== undefined;

/** The table's name for a broker error: by code, since clients name a few codes differently. */
function brokerName(error: PlatformaticErrorLike): string {
  return (error.apiCode === undefined ? undefined : kafkaErrorName(error.apiCode)) ?? error.apiId ?? 'UNKNOWN';
}

function kindOfBroker(error: PlatformaticErrorLike): ErrorKind {
  const known = KAFKA_ERRORS[brokerName(error)];
  if (known) return known.kind;
  return error.canRetry ? 'retriable' : 'abortable';
}

const SEVERITY: Record<ErrorKind, number> = {
  retriable: 0,
  abortable: 1,
  membership: 2,
  refused: 3,
  fenced: 4,
  fatal: 5,
};
const severity = (kind: ErrorKind) => SEVERITY[kind];

function* walk(error: unknown, depth = 0): Generator<PlatformaticErrorLike> {
  if (!error || typeof error !== 'object' || depth > 6) return;
  const e = error as PlatformaticErrorLike;
  yield e;
  for (const inner of e.errors ?? []) yield* walk(inner, depth + 1);
  if (e.cause) yield* walk(e.cause, depth + 1);
}

/** Runs a @platformatic/kafka call and rethrows whatever it throws as a ClientError. */
export async function guard<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw classifyPlatformaticError(error);
  }
}
