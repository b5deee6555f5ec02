import { isIP } from 'node:net';
import { nodeTlsOptions } from '@exactly/core';
import type { MessageToProduce, RetryDelayGetter } from '@platformatic/kafka';
import { backoffMs } from '../../backoff.js';
import type { AdapterLog } from '../../port/client.js';
import { keyedPartition } from '../murmur2.js';
import { type KafkaConnection, platformaticSasl } from '../security.js';

/** Where the adapter's clients connect, how they name themselves, and where the adapter logs its retries. */
export interface PlatformaticConnection extends KafkaConnection {
  readonly log?: AdapterLog;
}

/**
 * The client's back-off between its own retries: the runtime's policy (backoff.ts). The client's default (1 s
 * for everything) made every transaction that met CONCURRENT_TRANSACTIONS cost a second.
 */
export const retryDelay: RetryDelayGetter = (_client, _operation, attempt, _retries, error) =>
  backoffMs(attempt - 1, /CONCURRENT_TRANSACTIONS/.test(describe(error)));

/** The client's own retries of one call: about 6 s of back-off in all, then the engine decides. */
const CLIENT_RETRIES = 7;

function describe(error: Error): string {
  const nested = (error as { errors?: unknown[] }).errors ?? [];
  return [(error as { apiId?: string }).apiId ?? '', error.message, ...nested.map((e) => describe(e as Error))].join(
    ' ',
  );
}

/**
 * Options every client of the adapter shares. An admin client retries nothing itself (`retries: false`): its
 * callers retry with the runtime's back-off, and the client's own retries nest (a request's retries inside the
 * operation's), so a pending transactional offset commit kept one offset read waiting for ~57 s.
 */
export function baseOptions(connection: PlatformaticConnection, role: string, retries = true) {
  return {
    clientId: `${connection.clientId}-${role}`,
    bootstrapBrokers: [...connection.brokers],
    ...security(connection),
    retries: retries ? CLIENT_RETRIES : 0,
    retryDelay,
  };
}

let roundRobin = 0;

/** The Java client's partitioner for keyed records (murmur2), so a key lands where any Kafka client puts it. */
export function partitionOf(_message: MessageToProduce, key: Buffer | undefined): number {
  if (key) return keyedPartition(key);
  roundRobin = (roundRobin + 1) % 0x7fffffff; // records without a key spread over the partitions
  return roundRobin;
}

/** TLS (with SNI: the broker's host, as KafkaJS sends) and SASL, in the client's option names. */
function security(connection: PlatformaticConnection) {
  const tls = nodeTlsOptions(connection.security?.ssl);
  const sasl = connection.security?.sasl;
  return {
    // SNI carries the broker's host name (cloud services route on it); an IP address is not sent (RFC 6066).
    ...(tls ? { tls, ...(sni(connection.brokers, tls.servername) ?? {}) } : {}),
    ...(sasl ? { sasl: platformaticSasl(sasl) } : {}),
  };
}

function sni(brokers: readonly string[], servername: string | undefined): { tlsServerName: string | true } | undefined {
  if (servername) return { tlsServerName: servername };
  const hosts = brokers.map((broker) => broker.replace(/:\d+$/, '').replace(/^\[|\]$/g, ''));
  return hosts.some((host) => isIP(host) === 0) ? { tlsServerName: true } : undefined;
}
