/**
 * The part of a Confluent-API schema registry that serdes use. Core never opens a connection itself:
 * a client is handed in (see `confluentSchemaRegistry()`), so core stays importable with no network.
 */
export interface SchemaRegistryClient {
  /** Registers `schema` (JSON text) under `subject`; returns its global id. Same schema twice, same id. */
  register(subject: string, schema: string): Promise<number>;
  /** The schema (JSON text) with this global id. Rejects when the registry has no such id. */
  schemaById(id: number): Promise<string>;
}
