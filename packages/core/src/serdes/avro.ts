import type { Type } from 'avsc';
import { ExactlyConfigError, messageOf } from '../errors.js';
import type { SchemaRegistryClient } from '../registry.js';
import type { BoundSerde, Serde, SerdeSetup } from '../serde.js';
import { avroType } from './avro-long.js';
import { frame, unframe } from './confluent-wire.js';

/** An Avro schema: parsed (`{ type: 'record', name, fields }`) or as JSON text, e.g. an `.avsc` file's contents. */
export type AvroSchema = string | object;

export interface AvroOptions {
  /** Registry subject to register under. Default `<topic>-key` / `<topic>-value` (Confluent's TopicNameStrategy). */
  readonly subject?: string;
}

type Resolver = ReturnType<Type['createResolver']>;

/**
 * Avro in Confluent's wire format (magic byte 0, 4-byte schema id, Avro binary), for any client that uses a
 * Confluent-API schema registry. The schema is registered once at start-up (not per record); records written
 * with another registered schema are read through Avro schema resolution, so compatible evolution works.
 *
 * `T` is trusted to match the schema. Avro `long` is a `bigint` in `T` (all 64 bits, no silent rounding);
 * `int`, `float` and `double` are `number`.
 */
export function avro<T>(schema: AvroSchema, options: AvroOptions = {}): Serde<T> {
  const definition = parseSchema(schema);
  let type: Type;
  try {
    type = avroType(definition);
  } catch (error) {
    throw new ExactlyConfigError('avro(schema)', `not a valid Avro schema: ${messageOf(error)}`);
  }
  const { subject } = options;
  if (subject !== undefined && (typeof subject !== 'string' || subject.length === 0)) {
    throw new ExactlyConfigError('avro(options.subject)', 'must be a non-empty string');
  }
  const label = typeLabel(type);
  const schemaText = JSON.stringify(definition);
  // Ids are per registry: one cache per registry client, shared by every topic this serde is bound to.
  const caches = new WeakMap<SchemaRegistryClient, RegistryCache>();
  const notSetUp = (): never => {
    throw new Error(
      `avro(${label}) is not bound to a topic yet: it needs a schema registry, so use it in a topic() run by ` +
        'run() or TestDriver, or call its setup({ topic, role, registry }) first',
    );
  };
  return {
    name: 'avro',
    async setup({ topic, role, registry }: SerdeSetup): Promise<BoundSerde<T>> {
      const field = `topic('${topic}').${role}`;
      if (!registry) {
        throw new ExactlyConfigError(
          field,
          `avro(${label}) needs a schema registry: pass one, e.g. run(processor, { schemaRegistry }) or ` +
            'new TestDriver(processor, { registry }), with confluentSchemaRegistry({ url })',
        );
      }
      const cache = caches.get(registry) ?? new RegistryCache(registry, type, label);
      caches.set(registry, cache);
      const target = subject ?? `${topic}-${role}`;
      let id: number;
      try {
        id = await cache.register(target, schemaText);
      } catch (error) {
        throw new Error(`${field}: registering avro(${label}) under subject '${target}' failed: ${messageOf(error)}`, {
          cause: error,
        });
      }
      return bindToId<T>(type, id, cache, label);
    },
    serialize: notSetUp,
    deserialize: notSetUp,
  };
}

function bindToId<T>(type: Type, id: number, cache: RegistryCache, label: string): BoundSerde<T> {
  return {
    serialize: (value) => frame(id, encode(type, value, label)),
    deserialize: (bytes) => {
      const { schemaId, body } = unframe(bytes);
      // The common case stays synchronous: no promise per record.
      if (schemaId === id) return decode<T>(type, body, schemaId);
      return cache.resolver(schemaId).then((resolver) => decode<T>(type, body, schemaId, resolver));
    },
  };
}

/** Schema ids by subject and resolvers by writer id, for one registry. Failed fetches are not cached. */
class RegistryCache {
  private readonly ids = new Map<string, Promise<number>>();
  private readonly resolvers = new Map<number, Promise<Resolver>>();

  constructor(
    private readonly registry: SchemaRegistryClient,
    private readonly reader: Type,
    private readonly label: string,
  ) {}

  register(subject: string, schemaText: string): Promise<number> {
    let id = this.ids.get(subject);
    if (!id) {
      id = this.registry.register(subject, schemaText).then((registered) => {
        if (!Number.isInteger(registered)) throw new TypeError(`registry returned id ${String(registered)}`);
        return registered;
      });
      this.ids.set(subject, id);
      id.catch(() => this.ids.delete(subject));
    }
    return id;
  }

  resolver(writerId: number): Promise<Resolver> {
    let resolver = this.resolvers.get(writerId);
    if (!resolver) {
      const fetched = this.registry.schemaById(writerId).catch((error: unknown) => {
        this.resolvers.delete(writerId);
        throw new TypeError(`writer schema id ${writerId} could not be fetched: ${messageOf(error)}`);
      });
      resolver = fetched.then((text) => this.resolve(writerId, text));
      this.resolvers.set(writerId, resolver);
    }
    return resolver;
  }

  private resolve(writerId: number, text: string): Resolver {
    let writer: Type;
    try {
      writer = avroType(JSON.parse(text));
    } catch (error) {
      throw new TypeError(`writer schema id ${writerId} is not a valid Avro schema: ${messageOf(error)}`);
    }
    try {
      // Record names match unqualified, as the Avro specification's resolution rules say.
      return this.reader.createResolver(writer, { ignoreNamespaces: true });
    } catch (error) {
      throw new TypeError(
        `data written with schema id ${writerId} (${typeLabel(writer)}) cannot be read as ${this.label}: ` +
          `the schemas are not compatible (${messageOf(error)})`,
      );
    }
  }
}

function parseSchema(schema: AvroSchema): unknown {
  if (typeof schema !== 'string') {
    if (schema === null || typeof schema !== 'object') {
      throw new ExactlyConfigError('avro(schema)', 'must be an Avro schema object or its JSON text');
    }
    return schema;
  }
  try {
    return JSON.parse(schema);
  } catch {
    return schema; // A bare type name such as `long` is a schema too.
  }
}

function encode(type: Type, value: unknown, label: string): Buffer {
  try {
    return type.toBuffer(value);
  } catch (error) {
    const problems: string[] = [];
    type.isValid(value, { errorHook: (path, found, at) => problems.push(describeProblem(path, found, at)) });
    const details = problems.length > 0 ? problems.join('; ') : messageOf(error);
    throw new TypeError(`value does not match Avro schema ${label}: ${details}`);
  }
}

function decode<T>(type: Type, body: Buffer, schemaId: number, resolver?: Resolver): T {
  try {
    return type.fromBuffer(body, resolver) as T;
  } catch (error) {
    throw new TypeError(`Avro body does not match schema id ${schemaId}: ${messageOf(error)}`);
  }
}

function describeProblem(path: readonly string[], found: unknown, at: Type): string {
  const where = path.length > 0 ? `field '${path.join('.')}'` : 'the value';
  const expected = typeLabel(at);
  if (found === undefined) return `${where} is missing (expected ${expected})`;
  const hint =
    typeof found === 'number' && /"long"|^long$/.test(expected) ? ' (Avro longs are bigint: 5n, BigInt(x))' : '';
  return `${where} is ${show(found)}, expected ${expected}${hint}`;
}

function typeLabel(type: Type): string {
  if (type.name) return type.name;
  const schema = type.schema();
  const text = typeof schema === 'string' ? schema : JSON.stringify(schema);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Enough to recognise a mistake, without copying the content of strings or objects into error headers. */
function show(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  if (Array.isArray(value)) return 'an array';
  return `a${typeof value === 'object' ? 'n' : ''} ${typeof value}`;
}
