import { kafkajs } from '@exactly/read-committed';
import { type KafkaTarget, withAdmin } from './client.js';

const { AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = kafkajs;

export type AclResource = 'topic' | 'group' | 'transactional-id' | 'cluster';
export type AclOperation = 'read' | 'write' | 'describe' | 'describe-configs' | 'create';

/** One ACL that allows `principal` an operation on a resource (a name, or every name with a prefix). */
export interface Acl {
  readonly resource: AclResource;
  readonly name: string;
  readonly pattern: 'literal' | 'prefixed';
  readonly operation: AclOperation;
}

export interface ProcessorAclOptions {
  /** The processor's id: its group, the prefix of its transactional ids, dead-letter topic and changelogs. */
  readonly processorId: string;
  readonly input: string;
  readonly outputs: readonly string[];
  /** Also allow creating the topics (`--create-topics`). Default false. */
  readonly createTopics?: boolean;
}

/**
 * The least a processor needs on a cluster with ACLs (docs/operations.md lists the same): read its input,
 * write its outputs, its dead-letter topic and changelogs (all named from its id), use its group and its
 * transactional ids, and read topic settings. Nothing on the cluster unless it creates topics.
 */
export function processorAcls(options: ProcessorAclOptions): Acl[] {
  const id = options.processorId;
  const acls: Acl[] = [
    ...(['read', 'describe', 'describe-configs'] as const).map((operation) => topic(options.input, operation)),
    ...options.outputs.flatMap((name) =>
      (['write', 'describe', 'describe-configs'] as const).map((operation) => topic(name, operation)),
    ),
    // `<id>.dlq` and `<id>-<store>-changelog`: written in the transaction, changelogs read back on restore.
    ...(['read', 'write', 'describe', 'describe-configs'] as const).map(
      (operation): Acl => ({ resource: 'topic', name: id, pattern: 'prefixed', operation }),
    ),
    // The group `<id>` (and the restore readers' `<id>-…` groups).
    { resource: 'group', name: id, pattern: 'prefixed', operation: 'read' },
    // `<id>-…` (KafkaJS: one per input partition) or `<id>.<instance>` (platformatic).
    { resource: 'transactional-id', name: id, pattern: 'prefixed', operation: 'write' },
    { resource: 'transactional-id', name: id, pattern: 'prefixed', operation: 'describe' },
  ];
  if (options.createTopics)
    acls.push({ resource: 'cluster', name: 'kafka-cluster', pattern: 'literal', operation: 'create' });
  return acls;
}

function topic(name: string, operation: AclOperation): Acl {
  return { resource: 'topic', name, pattern: 'literal', operation };
}

const RESOURCES = {
  topic: AclResourceTypes.TOPIC,
  group: AclResourceTypes.GROUP,
  'transactional-id': AclResourceTypes.TRANSACTIONAL_ID,
  cluster: AclResourceTypes.CLUSTER,
} as const;

const OPERATIONS = {
  read: AclOperationTypes.READ,
  write: AclOperationTypes.WRITE,
  describe: AclOperationTypes.DESCRIBE,
  'describe-configs': AclOperationTypes.DESCRIBE_CONFIGS,
  create: AclOperationTypes.CREATE,
} as const;

/** Creates the ACLs for `principal` (e.g. `User:app`), as an admin of the cluster. */
export async function grantAcls(admin: KafkaTarget, principal: string, acls: readonly Acl[]): Promise<void> {
  await withAdmin(admin, (client) =>
    client.createAcls({
      acl: acls.map((acl) => ({
        resourceType: RESOURCES[acl.resource],
        resourceName: acl.name,
        resourcePatternType: acl.pattern === 'prefixed' ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
        principal,
        host: '*',
        operation: OPERATIONS[acl.operation],
        permissionType: AclPermissionTypes.ALLOW,
      })),
    }),
  );
}
