import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { ExactlyConfigError, messageOf } from './errors.js';
import type { SchemaRegistryClient } from './registry.js';

/** Confluent's compatibility levels. */
export type SchemaCompatibility =
  | 'NONE'
  | 'BACKWARD'
  | 'BACKWARD_TRANSITIVE'
  | 'FORWARD'
  | 'FORWARD_TRANSITIVE'
  | 'FULL'
  | 'FULL_TRANSITIVE';

export interface ConfluentRegistryOptions {
  /** Base URL of a Confluent-API schema registry, e.g. `http://localhost:8081`. */
  readonly url: string;
  /** HTTP basic auth (Confluent Cloud: API key and secret). */
  readonly auth?: { readonly username: string; readonly password: string };
  /** Sent as the client's identity in the User-Agent header. */
  readonly clientId?: string;
  /**
   * The compatibility level a subject is expected to have when it has one of its own; a subject configured
   * otherwise is refused (a check made by `@kafkajs/confluent-schema-registry`). Default `BACKWARD`.
   * The client never changes a subject's configuration.
   */
  readonly compatibility?: SchemaCompatibility;
}

/**
 * A SchemaRegistryClient on `@kafkajs/confluent-schema-registry`. Nothing is loaded or connected until the
 * first call, so creating one (e.g. at import time of a processor module) costs nothing and needs no network.
 * Only named Avro schemas (record, enum, fixed) can be registered through that library.
 */
export function confluentSchemaRegistry(options: ConfluentRegistryOptions): SchemaRegistryClient {
  const { url, auth, clientId, compatibility = 'BACKWARD' } = options ?? {};
  checkUrl(url);
  let client: Promise<{ registry: SchemaRegistry; api: RegistryModule }> | undefined;
  const connect = () => {
    client ??= import('@kafkajs/confluent-schema-registry').then((api) => ({
      api,
      registry: new api.SchemaRegistry({ host: url, ...(auth ? { auth } : {}), ...(clientId ? { clientId } : {}) }),
    }));
    return client;
  };
  return {
    async register(subject, schema) {
      if (!isNamedSchema(schema)) {
        throw new Error(
          `subject '${subject}': @kafkajs/confluent-schema-registry registers named Avro schemas only ` +
            '(record, enum or fixed); wrap the type in a record, or use string() or bytes() for this key or value',
        );
      }
      const { registry, api } = await connect();
      try {
        const registered = await registry.register(
          { type: api.SchemaType.AVRO, schema },
          { subject, compatibility: api.COMPATIBILITY[compatibility], updateConfig: false },
        );
        return registered.id;
      } catch (error) {
        const hint =
          error instanceof Error && error.name === 'ConfluentSchemaRegistryCompatibilityError'
            ? ` (set confluentSchemaRegistry({ compatibility }) to the subject's level)`
            : '';
        throw new Error(`${messageOf(error)}${hint}`, { cause: error });
      }
    },
    async schemaById(id) {
      const { registry } = await connect();
      let schema: unknown;
      try {
        schema = await registry.getSchema(id);
      } catch (error) {
        if (statusOf(error) === 404) throw new Error(`the registry has no schema with id ${id}`, { cause: error });
        throw error;
      }
      if (!isAvroType(schema)) throw new Error(`schema id ${id} is not an Avro schema`);
      return JSON.stringify(schema.schema({ exportAttrs: true }));
    },
  };
}

type RegistryModule = typeof import('@kafkajs/confluent-schema-registry');

function checkUrl(url: unknown): asserts url is string {
  let parsed: URL | undefined;
  try {
    parsed = typeof url === 'string' ? new URL(url) : undefined;
  } catch {}
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new ExactlyConfigError('url', `must be the registry's http(s) URL, e.g. http://localhost:8081`);
  }
}

function statusOf(error: unknown): unknown {
  return error && typeof error === 'object' && 'status' in error ? error.status : undefined;
}

function isNamedSchema(text: string): boolean {
  try {
    const parsed: unknown = JSON.parse(text);
    return !!parsed && typeof parsed === 'object' && typeof (parsed as { name?: unknown }).name === 'string';
  } catch {
    return false;
  }
}

/** The library answers with its avsc type for Avro schemas (and other objects for JSON Schema, Protobuf). */
function isAvroType(schema: unknown): schema is { schema(options: { exportAttrs: boolean }): unknown } {
  return (
    !!schema &&
    typeof schema === 'object' &&
    typeof (schema as { schema?: unknown }).schema === 'function' &&
    typeof (schema as { createResolver?: unknown }).createResolver === 'function'
  );
}
