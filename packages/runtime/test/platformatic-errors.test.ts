import { describe, expect, it } from 'vitest';
import { nodeRunsPlatformatic } from '../src/adapters/platformatic/node-version.js';
import { KAFKA_ERRORS } from '../src/port/kafka-errors.js';

// @platformatic/kafka needs Node 22.22+; on an older Node only the version check is tested.
const platformatic = nodeRunsPlatformatic(process.versions.node) ? await import('@platformatic/kafka') : undefined;
const { classifyPlatformaticError } = platformatic
  ? await import('../src/adapters/platformatic/classify.js')
  : { classifyPlatformaticError: undefined };

describe('the platformatic adapter refuses a Node it cannot run on, naming the version it needs', () => {
  it.each([
    ['20.19.0', false],
    ['22.21.9', false],
    ['22.22.0', true],
    ['24.5.0', false],
    ['24.6.0', true],
    ['25.0.0', true],
  ] as const)('Node %s: %s', (version, runs) => {
    expect(nodeRunsPlatformatic(version)).toBe(runs);
  });
});

describe.runIf(platformatic)("@platformatic/kafka errors, normalised to the engine's kinds", () => {
  // The client builds its protocol errors from broker codes with this class; the tests use the real thing.
  const fromBroker = (code: number) => {
    if (!platformatic || !classifyPlatformaticError) throw new Error('unreachable');
    return classifyPlatformaticError(new platformatic.ProtocolError(code));
  };

  it.each([
    [47, 'INVALID_PRODUCER_EPOCH', 'fenced'],
    [90, 'PRODUCER_FENCED', 'fenced'],
    [51, 'CONCURRENT_TRANSACTIONS', 'retriable'],
    [16, 'NOT_COORDINATOR', 'retriable'],
    [6, 'NOT_LEADER_FOR_PARTITION', 'retriable'], // the client's NOT_LEADER_OR_FOLLOWER, named by code
    [88, 'UNSTABLE_OFFSET_COMMIT', 'retriable'],
    [48, 'INVALID_TXN_STATE', 'abortable'],
    [22, 'ILLEGAL_GENERATION', 'membership'], // KIP-447: a zombie's offset commit, refused by the group
    [25, 'UNKNOWN_MEMBER_ID', 'membership'],
    [53, 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 'fatal'],
    [10, 'MESSAGE_TOO_LARGE', 'refused'],
  ] as const)('broker error %i (%s) is %s', (code, name, kind) => {
    expect(fromBroker(code)).toMatchObject({ code: name, kind });
  });

  it('every entry of the table agrees with the code the client gives that error', () => {
    for (const [name, { code, kind }] of Object.entries(KAFKA_ERRORS)) {
      expect(fromBroker(code), `code ${code}`).toMatchObject({ code: name, kind });
    }
  });

  it('finds the broker error inside the retry wrappers, and the most severe one decides', () => {
    if (!platformatic || !classifyPlatformaticError) throw new Error('unreachable');
    const { MultipleErrors, ProtocolError } = platformatic;
    const retried = new MultipleErrors('endTransaction failed 3 times.', [
      new ProtocolError('CONCURRENT_TRANSACTIONS'),
      new ProtocolError('INVALID_PRODUCER_EPOCH'),
    ]);
    expect(classifyPlatformaticError(retried)).toMatchObject({ kind: 'fenced', code: 'INVALID_PRODUCER_EPOCH' });
  });

  it('treats lost connections as retriable and anything unknown as abortable, keeping the message', () => {
    if (!platformatic || !classifyPlatformaticError) throw new Error('unreachable');
    const lost = new platformatic.NetworkError('Connection closed');
    expect(classifyPlatformaticError(lost).kind).toBe('retriable');
    const unknown = classifyPlatformaticError(new Error('something new'));
    expect(unknown.kind).toBe('abortable');
    expect(unknown.message).toContain('something new');
  });
});
