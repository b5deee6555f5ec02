import type { ErrorKind } from './errors.js';

/**
 * Kafka's broker errors, by the protocol's current name, and what the engine does about each. Errors are
 * matched by code: KafkaJS 2.2.4 reports a few codes under older names (14, 15, 16) and codes newer than its
 * own table (> 88) as "Unknown error code N". Anything absent here is treated as abortable.
 */
export const KAFKA_ERRORS: Readonly<Record<string, { readonly code: number; readonly kind: ErrorKind }>> = {
  // Fenced: a newer producer holds this transactional.id. The partition moved; never retry.
  INVALID_PRODUCER_EPOCH: { code: 47, kind: 'fenced' },
  PRODUCER_FENCED: { code: 90, kind: 'fenced' },

  // Abortable: this transaction cannot commit; abort, rewind, redo (with a fresh producer).
  OUT_OF_ORDER_SEQUENCE_NUMBER: { code: 45, kind: 'abortable' },
  DUPLICATE_SEQUENCE_NUMBER: { code: 46, kind: 'abortable' },
  INVALID_TXN_STATE: { code: 48, kind: 'abortable' },
  INVALID_PRODUCER_ID_MAPPING: { code: 49, kind: 'abortable' },
  UNKNOWN_PRODUCER_ID: { code: 59, kind: 'abortable' },
  TRANSACTIONAL_ID_NOT_FOUND: { code: 105, kind: 'abortable' },

  // Membership: the group moved on without this member (a heartbeat or a KIP-447 offset commit was refused).
  ILLEGAL_GENERATION: { code: 22, kind: 'membership' },
  UNKNOWN_MEMBER_ID: { code: 25, kind: 'membership' },
  REBALANCE_IN_PROGRESS: { code: 27, kind: 'membership' },
  FENCED_INSTANCE_ID: { code: 82, kind: 'membership' },

  // Retriable: passing conditions; the same call can succeed after a pause.
  CORRUPT_MESSAGE: { code: 2, kind: 'retriable' },
  UNKNOWN_TOPIC_OR_PARTITION: { code: 3, kind: 'retriable' },
  LEADER_NOT_AVAILABLE: { code: 5, kind: 'retriable' },
  NOT_LEADER_FOR_PARTITION: { code: 6, kind: 'retriable' },
  REQUEST_TIMED_OUT: { code: 7, kind: 'retriable' },
  NETWORK_EXCEPTION: { code: 13, kind: 'retriable' },
  COORDINATOR_LOAD_IN_PROGRESS: { code: 14, kind: 'retriable' },
  COORDINATOR_NOT_AVAILABLE: { code: 15, kind: 'retriable' },
  NOT_COORDINATOR: { code: 16, kind: 'retriable' },
  NOT_ENOUGH_REPLICAS: { code: 19, kind: 'retriable' },
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: { code: 20, kind: 'retriable' },
  CONCURRENT_TRANSACTIONS: { code: 51, kind: 'retriable' },
  TRANSACTION_COORDINATOR_FENCED: { code: 52, kind: 'retriable' },
  KAFKA_STORAGE_ERROR: { code: 56, kind: 'retriable' },
  FETCH_SESSION_ID_NOT_FOUND: { code: 70, kind: 'retriable' },
  INVALID_FETCH_SESSION_EPOCH: { code: 71, kind: 'retriable' },
  FENCED_LEADER_EPOCH: { code: 74, kind: 'retriable' },
  UNKNOWN_LEADER_EPOCH: { code: 75, kind: 'retriable' },
  UNSTABLE_OFFSET_COMMIT: { code: 88, kind: 'retriable' },
  THROTTLING_QUOTA_EXCEEDED: { code: 89, kind: 'retriable' },

  // Refused: a record (or a batch of them) this topic will never take. The input that made it is dead-lettered.
  MESSAGE_TOO_LARGE: { code: 10, kind: 'refused' },
  RECORD_LIST_TOO_LARGE: { code: 18, kind: 'refused' },
  INVALID_TIMESTAMP: { code: 32, kind: 'refused' },
  INVALID_RECORD: { code: 87, kind: 'refused' },

  // Fatal: no retry helps; stop and tell the operator.
  INCONSISTENT_GROUP_PROTOCOL: { code: 23, kind: 'fatal' },
  INVALID_REQUIRED_ACKS: { code: 21, kind: 'fatal' },
  TOPIC_AUTHORIZATION_FAILED: { code: 29, kind: 'fatal' },
  GROUP_AUTHORIZATION_FAILED: { code: 30, kind: 'fatal' },
  CLUSTER_AUTHORIZATION_FAILED: { code: 31, kind: 'fatal' },
  UNSUPPORTED_VERSION: { code: 35, kind: 'fatal' },
  INVALID_TRANSACTION_TIMEOUT: { code: 50, kind: 'fatal' },
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: { code: 53, kind: 'fatal' },
  SECURITY_DISABLED: { code: 54, kind: 'fatal' },
  SASL_AUTHENTICATION_FAILED: { code: 58, kind: 'fatal' },
};

const NAME_BY_CODE = new Map(Object.entries(KAFKA_ERRORS).map(([name, { code }]) => [code, name]));

export function kafkaErrorName(code: number): string | undefined {
  return NAME_BY_CODE.get(code);
}

/** What an operator should do about an error, where the broker's own words do not say it. */
const HINTS: Readonly<Record<string, string>> = {
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    "this user may not use the processor's transactional ids: an ACL must allow Write and Describe on TransactionalId with the processor's id as a prefix (kafka-acls --add --allow-principal User:<user> --operation Write --operation Describe --transactional-id <processor id> --resource-pattern-type prefixed; docs/operations.md lists every ACL a processor needs)",
  GROUP_AUTHORIZATION_FAILED:
    "this user may not use the processor's consumer group: an ACL must allow Read on Group <processor id> (docs/operations.md lists every ACL a processor needs)",
  TOPIC_AUTHORIZATION_FAILED:
    'this user may not use a topic: ACLs must allow Read and Describe on the input, Write and Describe on the outputs, the dead-letter topic and the changelogs (docs/operations.md lists every ACL a processor needs)',
  CLUSTER_AUTHORIZATION_FAILED:
    'this user lacks a cluster permission: creating topics (--create-topics) needs Create on the cluster or on the topics; docs/operations.md lists every ACL a processor needs',
  INCONSISTENT_GROUP_PROTOCOL:
    "the group's live members run Exactly's other client mode (kafkajs and platformatic join a group with different protocols and fence zombies differently, so they cannot share one). Run every instance of this processor with the same --client (EXACTLY_CLIENT) until the others are gone, e.g. pin the old one during a rolling upgrade; members that just crashed leave the group after their session timeout",
};

/** The message, with what to do about it when the error is one of those that need saying. */
export function withHint(name: string, message: string): string {
  const hint = HINTS[name];
  return hint ? `${message.replace(/\.$/, '')}: ${hint}` : message;
}
