export type { ConfluentRegistryOptions, SchemaCompatibility } from './confluent-registry.js';
export { confluentSchemaRegistry } from './confluent-registry.js';
export type { RecordErrorKind, RecordLocation } from './errors.js';
export {
  DecodeError,
  EncodeError,
  ExactlyConfigError,
  HandlerError,
  RecordError,
} from './errors.js';
export type { AnyExchange, Exchange, ExchangeEntry, ExchangeMessage, ExchangeValueOf } from './exchange.js';
export { checkExchangeName, isExchange } from './exchange.js';
export { Headers } from './headers.js';
export type { BoundStore, CommittedState } from './partition-stores.js';
export { MemoryState, PartitionStores } from './partition-stores.js';
export type { PipelineOptions, RecordOutcome } from './pipeline.js';
export { RecordPipeline } from './pipeline.js';
export type {
  AnyInput,
  Handler,
  HandlerOutputs,
  HandlerResult,
  NoStores,
  OnError,
  OutputEntry,
  OutputMap,
  Processor,
  ProcessorDefinition,
  RecordOf,
  TopicMap,
} from './processor.js';
export { defineProcessor } from './processor.js';
export type {
  AnyQueue,
  DedupWindow,
  Queue,
  QueueDelivery,
  QueueMessage,
  QueueRecord,
  QueueValueOf,
} from './queue.js';
export { checkQueueName, DEFAULT_DEDUP_WINDOW, dedupChangelogTopic, isQueue } from './queue.js';
export { DEFAULT_MAX_MESSAGE_BYTES, RECORD_BATCH_OVERHEAD, recordBatchBytes, recordBytes } from './record-size.js';
export type { EncodedRecord, InputHeaders, InputRecord, OutputHeaders, OutputRecord, RawRecord } from './records.js';
export type { SchemaRegistryClient } from './registry.js';
export type { KafkaSecurity, OAuthBearerSasl, SaslOptions, TlsOptions, UsernamePasswordSasl } from './security.js';
export { checkSecurity, nodeTlsOptions } from './security.js';
export type { BoundSerde, Serde, SerdeRole, SerdeSetup } from './serde.js';
export { bindSerde } from './serde.js';
export type { AvroOptions, AvroSchema } from './serdes/avro.js';
export { avro } from './serdes/avro.js';
export { bytes } from './serdes/bytes.js';
export type { JsonOptions } from './serdes/json.js';
export { json } from './serdes/json.js';
export { string } from './serdes/string.js';
export type {
  AnyStore,
  HandlerContext,
  KeyValueStore,
  Store,
  StoreKeyOf,
  StoreMap,
  StoreSerdes,
  StoresOf,
  StoreValueOf,
} from './store.js';
export { changelogTopic, store } from './store.js';
export type { AnyTable, RowOf, Table, TableConflict, TableEntry, TableRow } from './table.js';
export { checkTableName, isTable } from './table.js';
export type { AnyTopic, KeyOf, Topic, TopicSerdes, ValueOf } from './topic.js';
export { topic } from './topic.js';
