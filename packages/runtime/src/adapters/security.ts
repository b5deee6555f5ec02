import type { KafkaSecurity, SaslOptions } from '@exactly/core';

/** Where an adapter's clients connect, how they name themselves, and how they authenticate. */
export interface KafkaConnection {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly security?: KafkaSecurity;
}

/** The platformatic client's SASL options for ours (its mechanism names are Kafka's, upper case). */
export function platformaticSasl(sasl: SaslOptions) {
  if (sasl.mechanism === 'oauthbearer') {
    const provider = sasl.oauthBearerProvider;
    return { mechanism: 'OAUTHBEARER' as const, token: async () => (await provider()).value };
  }
  const mechanism = ({ plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' } as const)[
    sasl.mechanism
  ];
  return { mechanism, username: sasl.username, password: sasl.password };
}

/** For the start-up log line: what protects the connection, never a secret. */
export function describeSecurity(security: KafkaSecurity): string {
  const tls = security.ssl !== undefined && security.ssl !== false;
  const sasl = security.sasl;
  const protocol = sasl ? (tls ? 'SASL_SSL' : 'SASL_PLAINTEXT') : tls ? 'SSL' : 'PLAINTEXT';
  if (!sasl) return protocol;
  return sasl.mechanism === 'oauthbearer'
    ? `${protocol} oauthbearer`
    : `${protocol} ${sasl.mechanism} as ${sasl.username}`;
}
