export { childProcessesOf } from './child-processes.js';
export { dockerEngineAnswers } from './docker.js';
export type {
  DeadLetter,
  RawInput,
  SendOptions,
  SourceLocation,
  TestDriverOptions,
  TestOutputRecord,
} from './driver.js';
export { TestDriver } from './driver.js';
export type { ExampleApp, GeneratedRecord } from './example.js';
export type { ProcessorTopics } from './example-records.js';
export { exampleEncoder, topicSpecsOf, topicsOf, writeExampleRecords } from './example-records.js';
export type { ExampleRunOptions } from './example-run.js';
export { runExampleOnBroker } from './example-run.js';
export type { Acl, AclOperation, AclResource, ProcessorAclOptions } from './kafka/acls.js';
export { grantAcls, processorAcls } from './kafka/acls.js';
export type { KafkaTarget, TopicSpec } from './kafka/client.js';
export { brokersOf, createTopics, testClient, uniqueTopic } from './kafka/client.js';
export { consumeToEnd } from './kafka/consume-to-end.js';
export { coordinatorOf, javaStringHash } from './kafka/coordinators.js';
export type { GenerateOptions } from './kafka/generate.js';
export { generateRecords } from './kafka/generate.js';
export { groupLag, groupProgress, waitForGroupCaughtUp, waitUntil } from './kafka/group.js';
export type { InterleavedTransactionsOptions } from './kafka/interleaved-transactions.js';
export { writeInterleavedTransactions } from './kafka/interleaved-transactions.js';
export { ensureKafkaJars } from './kafka/jars.js';
export type { LocalBrokerOptions } from './kafka/local-broker.js';
export { LocalBroker } from './kafka/local-broker.js';
export type { LocalClusterOptions } from './kafka/local-cluster.js';
export { LocalCluster } from './kafka/local-cluster.js';
export { cacheDir, KAFKA_VERSION } from './kafka/paths.js';
export { freePort } from './kafka/ports.js';
export type { IsolationLevel, ReadRecord, ReadTopicOptions } from './kafka/read-topic.js';
export { readTopic } from './kafka/read-topic.js';
export { unsecuredToken } from './kafka/secure.js';
export type { Kafka, KafkaKind, SecuredKafka, StartKafkaOptions } from './kafka/start-kafka.js';
export { findSharedKafka, findSharedSecureKafka, startKafka } from './kafka/start-kafka.js';
export type { LocalPostgresOptions } from './postgres/local-postgres.js';
export { LocalPostgres } from './postgres/local-postgres.js';
export type { Postgres, PostgresKind, StartPostgresOptions } from './postgres/start-postgres.js';
export { findSharedPostgres, startPostgres } from './postgres/start-postgres.js';
export type { RunningTotalsTopics } from './processors/running-totals.js';
export { amountOf, generateAmounts, runningTotals } from './processors/running-totals.js';
export type { LocalRabbitMQOptions } from './rabbitmq/local-rabbitmq.js';
export { LocalRabbitMQ } from './rabbitmq/local-rabbitmq.js';
export { pythonWithPika } from './rabbitmq/pika.js';
export type { RabbitMQ, RabbitMQKind, StartRabbitMQOptions } from './rabbitmq/start-rabbitmq.js';
export { findSharedRabbitMQ, sharedRabbitMQDir, startRabbitMQ } from './rabbitmq/start-rabbitmq.js';
export type { SchemaRegistryKind, SchemaRegistryServer } from './schema-registry/start.js';
export { registryLabel, startSchemaRegistry } from './schema-registry/start.js';
export { TestSchemaRegistry } from './schema-registry/test-registry.js';
export type { ExchangeVerdict, QueueOnceOptions, QueueOnceVerdict } from './verifier/queue-once.js';
export { verifyQueueOnce } from './verifier/queue-once.js';
export type { QueuePublishOptions, QueuePublishResult, QueueTopology } from './verifier/queue-publisher.js';
export { declareQueueTopology, publishToQueue, queueMessageId, queueReady } from './verifier/queue-publisher.js';
export type { RunningTotalsOptions, RunningTotalsVerdict } from './verifier/running-totals.js';
export { verifyRunningTotals } from './verifier/running-totals.js';
export type { TableCheck, TableVerdict } from './verifier/tables.js';
export type { OutputVerdict, Verdict, VerifyOptions } from './verifier/verify.js';
export { verifyExactlyOnce } from './verifier/verify.js';
