import type { SchemaRegistryClient } from './registry.js';

// Placeholder: being implemented (issue 4).
export interface ConfluentRegistryOptions {
  readonly url: string;
}
export function confluentSchemaRegistry(_options: ConfluentRegistryOptions): SchemaRegistryClient {
  throw new Error('not implemented yet');
}
