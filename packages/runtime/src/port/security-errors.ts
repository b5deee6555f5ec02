import { ClientError } from './errors.js';

/**
 * Failures to connect that retrying cannot mend: the broker's certificate is not trusted, or it refused the
 * credentials. Both clients report them as connection errors (which are retried); the adapters ask here first,
 * so that start-up stops at once and says what to change. One place for both clients' words.
 */

/** Node's codes for a certificate that does not verify (tls.connect's `error.code`). */
const CERTIFICATE_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export interface FailureSeen {
  /** Codes found anywhere in the error's tree (Node's, the client's, the broker's error name). */
  readonly codes: readonly string[];
  /** The message that goes with the most specific one. */
  readonly message: string;
  readonly cause: unknown;
}

export function securityFailure({ codes, message: said, cause }: FailureSeen): ClientError | undefined {
  const message = said.replace(/\.$/, '');
  const certificate = codes.find((code) => CERTIFICATE_CODES.has(code));
  if (certificate) {
    const what =
      certificate === 'ERR_TLS_CERT_ALTNAME_INVALID'
        ? "the broker's TLS certificate does not name the address connected to"
        : "the broker's TLS certificate could not be verified";
    return new ClientError(
      'fatal',
      certificate,
      `${what} (${certificate}: ${message}): trust the authority that signed it (ssl.ca in code; ssl.ca.location or ` +
        'ssl.truststore.location in client.properties), or check the broker addresses',
      { cause },
    );
  }
  if (codes.includes('SASL_AUTHENTICATION_FAILED') || codes.includes('KafkaJSSASLAuthenticationError')) {
    return new ClientError(
      'fatal',
      'SASL_AUTHENTICATION_FAILED',
      `SASL authentication failed (${message}): check the mechanism, the username and the password`,
      { cause },
    );
  }
  return undefined;
}
