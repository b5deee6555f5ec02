import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { classifyKafkaJsError } from '../src/adapters/kafkajs/classify.js';
import { ClientError } from '../src/port/errors.js';
import { KAFKA_ERRORS } from '../src/port/kafka-errors.js';

// KafkaJS builds its protocol errors from broker codes with this function; the tests use the real thing.
const require = createRequire(import.meta.url);
const kafkajs = require('kafkajs') as typeof import('kafkajs');
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode(code: number): Error };

const fromBroker = (code: number) => classifyKafkaJsError(createErrorFromCode(code));

describe("KafkaJS errors, normalised to the engine's kinds", () => {
  it.each([
    [47, 'INVALID_PRODUCER_EPOCH', 'fenced'],
    [90, 'PRODUCER_FENCED', 'fenced'], // newer than KafkaJS's own table: named by number
    [51, 'CONCURRENT_TRANSACTIONS', 'retriable'],
    [16, 'NOT_COORDINATOR', 'retriable'],
    [14, 'COORDINATOR_LOAD_IN_PROGRESS', 'retriable'],
    [6, 'NOT_LEADER_FOR_PARTITION', 'retriable'],
    [48, 'INVALID_TXN_STATE', 'abortable'],
    [59, 'UNKNOWN_PRODUCER_ID', 'abortable'],
    [22, 'ILLEGAL_GENERATION', 'membership'],
    [25, 'UNKNOWN_MEMBER_ID', 'membership'],
    [27, 'REBALANCE_IN_PROGRESS', 'membership'],
    [53, 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 'fatal'],
    [29, 'TOPIC_AUTHORIZATION_FAILED', 'fatal'],
    [10, 'MESSAGE_TOO_LARGE', 'refused'],
    [87, 'INVALID_RECORD', 'refused'],
  ] as const)('broker error %i (%s) is %s', (code, name, kind) => {
    const error = fromBroker(code);
    expect(error).toBeInstanceOf(ClientError);
    expect(error.code).toBe(name);
    expect(error.kind).toBe(kind);
  });

  it('every entry of the table agrees with the code KafkaJS gives that name', () => {
    for (const [name, { code }] of Object.entries(KAFKA_ERRORS)) {
      const error = fromBroker(code);
      expect(error.code, `code ${code}`).toBe(name);
    }
  });

  it('looks through KafkaJS retry wrappers to the error that exhausted them', () => {
    const exhausted = new kafkajs.KafkaJSNumberOfRetriesExceeded(createErrorFromCode(47), {
      retryCount: 5,
      retryTime: 100,
    });
    expect(classifyKafkaJsError(exhausted)).toMatchObject({ kind: 'fenced', code: 'INVALID_PRODUCER_EPOCH' });
  });

  it('treats lost connections as retriable and an unusable transaction state as abortable', () => {
    expect(classifyKafkaJsError(new kafkajs.KafkaJSConnectionError('Connection error: ECONNREFUSED')).kind).toBe(
      'retriable',
    );
    expect(classifyKafkaJsError(new kafkajs.KafkaJSRequestTimeoutError('Request Produce timed out')).kind).toBe(
      'retriable',
    );
    const state = new kafkajs.KafkaJSNonRetriableError('Transaction state exception: Invalid state transition');
    expect(classifyKafkaJsError(state).kind).toBe('abortable');
  });

  it('a SASL login the broker refuses is fatal; one cut by a restarting broker is retried', () => {
    const { KafkaJSSASLAuthenticationError } = require('kafkajs/src/errors') as {
      KafkaJSSASLAuthenticationError: new (message: string) => Error;
    };
    const refused = new KafkaJSSASLAuthenticationError(
      'SASL SCRAM SHA512 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512',
    );
    expect(classifyKafkaJsError(refused)).toMatchObject({ kind: 'fatal', code: 'SASL_AUTHENTICATION_FAILED' });
    for (const cut of ['Connection closed', 'Request SaslAuthenticate(key: 36, version: 1) timed out']) {
      const error = classifyKafkaJsError(
        new KafkaJSSASLAuthenticationError(`SASL PLAIN authentication failed: ${cut}`),
      );
      expect(error.kind, cut).toBe('retriable');
    }
  });

  it('a batch KafkaJS cannot decompress is fatal (every fetch meets it again); an API it lacks is not called that', () => {
    const { KafkaJSNotImplemented } = require('kafkajs/src/errors') as {
      KafkaJSNotImplemented: new (message: string) => Error;
    };
    const lz4 = new KafkaJSNotImplemented('LZ4 compression not implemented');
    expect(classifyKafkaJsError(lz4)).toMatchObject({ kind: 'fatal', code: 'UNREADABLE_RECORD_BATCH' });
    const api = new KafkaJSNotImplemented('Requested version is not supported');
    expect(classifyKafkaJsError(api).code).not.toBe('UNREADABLE_RECORD_BATCH');
  });

  it('an error it does not know is abortable (abort and redo loses nothing), and keeps its message', () => {
    const error = classifyKafkaJsError(new Error('something new'));
    expect(error.kind).toBe('abortable');
    expect(error.message).toContain('something new');
  });
});
