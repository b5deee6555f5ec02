import type { ConnectionOptions } from 'node:tls';
import { ExactlyConfigError } from './errors.js';

/**
 * TLS to the brokers, shaped as KafkaJS users know it (`ssl`). Without `ca`, the system's certificate
 * authorities are trusted; `servername` defaults to each broker's host. `cert` and `key` give mutual TLS.
 */
export interface TlsOptions {
  /** PEM certificate(s) of the authorities to trust instead of the system's. */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  /** PEM client certificate (chain), for mutual TLS. */
  readonly cert?: string | Buffer;
  /** PEM private key of `cert`. */
  readonly key?: string | Buffer;
  /** Decrypts `key` (or `pfx`). */
  readonly passphrase?: string;
  /** A PKCS#12 bundle with the client certificate and key, instead of `cert` and `key`. */
  readonly pfx?: Buffer;
  /** Name checked against the broker's certificate (and sent as SNI). Default: the broker's host. */
  readonly servername?: string;
  /** Check the broker's certificate against the trusted authorities. Default true; false only for tests. */
  readonly rejectUnauthorized?: boolean;
  /** Check that the certificate names the broker (Java's `ssl.endpoint.identification.algorithm=https`). Default true. */
  readonly checkServerName?: boolean;
}

export interface UsernamePasswordSasl {
  readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  readonly username: string;
  readonly password: string;
}

export interface OAuthBearerSasl {
  readonly mechanism: 'oauthbearer';
  /** Called for every new connection: a valid token (refresh it here), as KafkaJS's provider. */
  readonly oauthBearerProvider: () => Promise<{ readonly value: string }>;
}

export type SaslOptions = UsernamePasswordSasl | OAuthBearerSasl;

/** How clients authenticate and encrypt: `ssl` (true, or options) and `sasl`, as in KafkaJS. */
export interface KafkaSecurity {
  readonly ssl?: boolean | TlsOptions;
  readonly sasl?: SaslOptions;
}

const MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer'] as const;

/** Checks `sasl` at start, so that a mistake is a message saying what to change, not a failed handshake later. */
export function checkSecurity(security: KafkaSecurity): void {
  const sasl = security.sasl as { mechanism?: unknown; username?: unknown; password?: unknown } | undefined;
  if (sasl === undefined) return;
  const mechanism = typeof sasl.mechanism === 'string' ? sasl.mechanism.toLowerCase() : sasl.mechanism;
  if (!MECHANISMS.includes(mechanism as (typeof MECHANISMS)[number])) {
    throw new ExactlyConfigError(
      'sasl.mechanism',
      `must be one of ${MECHANISMS.join(', ')} (got ${String(sasl.mechanism)})`,
    );
  }
  if (mechanism === 'oauthbearer') {
    if (typeof (security.sasl as OAuthBearerSasl).oauthBearerProvider !== 'function') {
      throw new ExactlyConfigError(
        'sasl.oauthBearerProvider',
        'oauthbearer needs an async function returning { value: token }',
      );
    }
    return;
  }
  for (const field of ['username', 'password'] as const) {
    if (typeof sasl[field] !== 'string' || sasl[field] === '') {
      throw new ExactlyConfigError(`sasl.${field}`, `${String(mechanism)} needs a ${field} (a non-empty string)`);
    }
  }
}

/** Node's TLS options for `ssl`, which every client takes (KafkaJS's `ssl`, platformatic's `tls`); undefined: TLS off. */
export function nodeTlsOptions(ssl: KafkaSecurity['ssl']): ConnectionOptions | undefined {
  if (ssl === undefined || ssl === false) return undefined;
  if (ssl === true) return {};
  const { ca, checkServerName, ...rest } = ssl;
  return {
    ...rest,
    ...(ca === undefined ? {} : { ca: Array.isArray(ca) ? [...ca] : (ca as string | Buffer) }),
    // Java's empty ssl.endpoint.identification.algorithm: the chain is still checked, the name is not.
    ...(checkServerName === false ? { checkServerIdentity: () => undefined } : {}),
  };
}
