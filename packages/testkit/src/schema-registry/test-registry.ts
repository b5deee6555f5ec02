import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Type } from 'avsc';
import avsc from 'avsc';

/**
 * A test double for a Confluent schema registry *server*: the part of its REST API that clients use
 * (register, look up by id, subject and version, list subjects and versions, compatibility config and check),
 * with Confluent's JSON shapes, content type and error codes. Avro only, in memory, on 127.0.0.1.
 *
 * It exists because no real registry can be installed on our machines (see the schema-registry notes).
 * Everything on the client side of the wire stays real. Never let production code depend on it.
 */
export class TestSchemaRegistry {
  private readonly schemas = new Map<number, StoredSchema>();
  private readonly idsByCanonical = new Map<string, number>();
  /** Schema ids per subject; version n is at index n - 1. */
  private readonly subjects = new Map<string, number[]>();
  private readonly subjectLevels = new Map<string, Level>();
  private globalLevel: Level = 'BACKWARD';
  private nextId = 1;
  private readonly server = createServer((req, res) => void this.serve(req, res));
  private address = '';

  private constructor() {}

  /** Starts a registry on a free port of 127.0.0.1. */
  static async start(): Promise<TestSchemaRegistry> {
    const registry = new TestSchemaRegistry();
    await new Promise<void>((resolve, reject) => {
      registry.server.once('error', reject);
      registry.server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = registry.server.address() as AddressInfo;
    registry.address = `http://127.0.0.1:${port}`;
    return registry;
  }

  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  get url(): string {
    return this.address;
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections(); // clients keep connections alive; close() alone would wait for them
    await closed;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let status = 200;
    let body: unknown;
    try {
      const url = new URL(req.url ?? '/', 'http://registry');
      const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
      body = this.route(req.method ?? 'GET', segments, await readJson(req), url.searchParams);
    } catch (error) {
      const failure =
        error instanceof RegistryError ? error : new RegistryError(500, 50001, `Error in the backend: ${error}`);
      status = failure.status;
      body = { error_code: failure.code, message: failure.message };
    }
    res.writeHead(status, { 'content-type': CONTENT_TYPE }).end(JSON.stringify(body));
  }

  private route(method: string, path: readonly string[], body: unknown, query: URLSearchParams): unknown {
    const [root, a, b, c, d] = path;
    const n = path.length;
    const allow = (allowed: string): void => {
      if (method !== allowed) throw new RegistryError(405, 405, 'HTTP 405 Method Not Allowed');
    };
    if (n === 0) return {};
    if (root === 'subjects' && n === 1) {
      allow('GET');
      return [...this.subjects.keys()].sort();
    }
    if (root === 'subjects' && n === 2 && a) {
      allow('POST');
      return this.lookup(a, body);
    }
    if (root === 'subjects' && n === 3 && a && b === 'versions') {
      if (method === 'POST') return this.register(a, body);
      allow('GET');
      return this.versionsOf(a).map((_, index) => index + 1);
    }
    if (root === 'subjects' && (n === 4 || (n === 5 && d === 'schema')) && a && b === 'versions' && c) {
      allow('GET');
      const found = this.version(a, c);
      return n === 5 ? JSON.parse(found.schema) : found;
    }
    if (root === 'schemas' && a === 'ids' && b && (n === 3 || (n === 4 && c === 'versions'))) {
      allow('GET');
      return n === 3 ? { schema: this.byId(b).schema } : this.usesOf(this.byId(b).id);
    }
    if (root === 'config' && n <= 2) return this.config(method, a, body, query);
    if (root === 'compatibility' && a === 'subjects' && b && c === 'versions' && (n === 4 || n === 5)) {
      allow('POST');
      return this.checkCompatibility(b, d, body, query);
    }
    throw new RegistryError(404, 404, 'HTTP 404 Not Found');
  }

  private byId(id: string): StoredSchema {
    const stored = /^\d+$/.test(id) ? this.schemas.get(Number(id)) : undefined;
    if (!stored) throw new RegistryError(404, 40403, `Schema ${id} not found`);
    return stored;
  }

  /** The subject-versions that use a schema id. */
  private usesOf(id: number): Array<{ subject: string; version: number }> {
    return [...this.subjects].flatMap(([subject, ids]) =>
      ids.flatMap((used, index) => (used === id ? [{ subject, version: index + 1 }] : [])),
    );
  }

  private register(subject: string, body: unknown): { id: number } {
    const candidate = parseSchema(body);
    const versions = this.subjects.get(subject) ?? [];
    // The same schema again under the same subject: its id, and no new version.
    const existing = versions.find((id) => this.schemas.get(id)?.canonical === candidate.canonical);
    if (existing !== undefined) return { id: existing };
    const problems = incompatibilities(this.levelOf(subject), candidate.type, this.typesOf(versions));
    if (problems.length > 0) {
      throw new RegistryError(
        409,
        409,
        `Schema being registered is incompatible with an earlier schema for subject "${subject}", ` +
          `details: [${problems.join(', ')}]`,
      );
    }
    let id = this.idsByCanonical.get(candidate.canonical);
    if (id === undefined) {
      id = this.nextId++;
      this.idsByCanonical.set(candidate.canonical, id);
      this.schemas.set(id, { id, ...candidate });
    }
    this.subjects.set(subject, [...versions, id]);
    return { id };
  }

  private lookup(subject: string, body: unknown): SubjectVersion {
    const versions = this.versionsOf(subject);
    const candidate = parseSchema(body);
    const index = versions.findIndex((id) => this.schemas.get(id)?.canonical === candidate.canonical);
    if (index < 0) throw new RegistryError(404, 40403, 'Schema not found');
    return this.describe(subject, versions, index);
  }

  private version(subject: string, version: string): SubjectVersion {
    const versions = this.versionsOf(subject);
    const index = versionIndex(version, versions.length);
    return this.describe(subject, versions, index);
  }

  private config(method: string, subject: string | undefined, body: unknown, query: URLSearchParams): unknown {
    if (method === 'PUT') {
      const requested = (body as { compatibility?: unknown } | undefined)?.compatibility;
      const level = typeof requested === 'string' ? requested.toUpperCase() : '';
      if (!isLevel(level)) {
        throw new RegistryError(
          422,
          42203,
          'Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, ' +
            'forward_transitive, and full_transitive',
        );
      }
      if (subject === undefined) this.globalLevel = level;
      else this.subjectLevels.set(subject, level);
      return { compatibility: level };
    }
    if (method !== 'GET') throw new RegistryError(405, 405, 'HTTP 405 Method Not Allowed');
    if (subject === undefined) return { compatibilityLevel: this.globalLevel };
    const level = this.subjectLevels.get(subject);
    if (level) return { compatibilityLevel: level };
    if (query.get('defaultToGlobal') === 'true') return { compatibilityLevel: this.globalLevel };
    throw new RegistryError(404, 40408, `Subject '${subject}' does not have subject-level compatibility configured`);
  }

  private checkCompatibility(subject: string, version: string | undefined, body: unknown, query: URLSearchParams) {
    const versions = this.versionsOf(subject);
    const candidate = parseSchema(body);
    const level = this.levelOf(subject);
    // With a version: against that version alone; without one: as registration would check.
    const problems =
      version === undefined
        ? incompatibilities(level, candidate.type, this.typesOf(versions))
        : incompatibilities(level.replace('_TRANSITIVE', '') as Level, candidate.type, [
            this.typeOf(versions[versionIndex(version, versions.length)]),
          ]);
    const verdict = { is_compatible: problems.length === 0 };
    return query.get('verbose') === 'true' ? { ...verdict, messages: problems } : verdict;
  }

  private versionsOf(subject: string): number[] {
    const versions = this.subjects.get(subject);
    if (!versions) throw new RegistryError(404, 40401, `Subject '${subject}' not found.`);
    return versions;
  }

  private levelOf(subject: string): Level {
    return this.subjectLevels.get(subject) ?? this.globalLevel;
  }

  private typesOf(ids: readonly number[]): Type[] {
    return ids.map((id) => this.typeOf(id));
  }

  private typeOf(id: number | undefined): Type {
    const stored = id === undefined ? undefined : this.schemas.get(id);
    if (!stored) throw new RegistryError(500, 50001, `Error in the backend: schema ${id} missing`);
    return stored.type;
  }

  private describe(subject: string, versions: readonly number[], index: number): SubjectVersion {
    const id = versions[index];
    const stored = id === undefined ? undefined : this.schemas.get(id);
    if (!stored) throw new RegistryError(404, 40402, `Version ${index + 1} not found.`);
    return { subject, version: index + 1, id: stored.id, schema: stored.schema };
  }
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
const LEVELS = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const;
type Level = (typeof LEVELS)[number];

interface StoredSchema {
  readonly id: number;
  /** The text as first registered (minified); what GET /schemas/ids/{id} answers. */
  readonly schema: string;
  /** avsc's normal form: the same schema written differently (spacing, key order) has one id. */
  readonly canonical: string;
  readonly type: Type;
}

interface SubjectVersion {
  readonly subject: string;
  readonly id: number;
  readonly version: number;
  readonly schema: string;
}

class RegistryError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function isLevel(value: string): value is Level {
  return (LEVELS as readonly string[]).includes(value);
}

function parseSchema(body: unknown): Omit<StoredSchema, 'id'> {
  const { schema, schemaType, references } = (body ?? {}) as Record<string, unknown>;
  if (typeof schema !== 'string') throw new RegistryError(422, 42201, 'Invalid schema: the body has no "schema"');
  if (schemaType !== undefined && schemaType !== 'AVRO') {
    throw new RegistryError(422, 42201, `Invalid schema: the test registry supports AVRO only, not ${schemaType}`);
  }
  if (Array.isArray(references) && references.length > 0) {
    throw new RegistryError(422, 42201, 'Invalid schema: the test registry does not support schema references');
  }
  try {
    const parsed: unknown = JSON.parse(schema);
    const type = avsc.Type.forSchema(parsed as Parameters<typeof avsc.Type.forSchema>[0]);
    return { schema: JSON.stringify(parsed), canonical: JSON.stringify(type.schema({ exportAttrs: true })), type };
  } catch (error) {
    throw new RegistryError(422, 42201, `Invalid schema: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Confluent's version ids: 1 .. 2^31-1, `latest` or -1. */
function versionIndex(version: string, count: number): number {
  if (version === 'latest' || version === '-1') return count - 1;
  const n = /^\d+$/.test(version) ? Number(version) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 2 ** 31 - 1) {
    throw new RegistryError(
      422,
      42202,
      `The specified version '${version}' is not a valid version id. ` +
        'Allowed values are between [1, 2^31-1] and the string "latest"',
    );
  }
  if (n > count) throw new RegistryError(404, 40402, `Version ${n} not found.`);
  return n - 1;
}

/**
 * Why `candidate` may not follow `previous` (oldest first) under `level`, per Avro schema resolution:
 * BACKWARD = a reader of the new schema reads data written with the old one; FORWARD = the reverse;
 * FULL = both; non-transitive levels check the latest schema only.
 */
function incompatibilities(level: Level, candidate: Type, previous: readonly Type[]): string[] {
  if (level === 'NONE' || previous.length === 0) return [];
  const against = level.endsWith('_TRANSITIVE') ? previous : previous.slice(-1);
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const problems: string[] = [];
  for (const old of against) {
    if (backward) problems.push(...cannotRead(candidate, old, 'BACKWARD: the new schema cannot read older data'));
    if (forward) problems.push(...cannotRead(old, candidate, 'FORWARD: an older schema cannot read new data'));
  }
  return problems;
}

function cannotRead(reader: Type, writer: Type, what: string): string[] {
  try {
    // The Avro specification matches record names unqualified.
    reader.createResolver(writer, { ignoreNamespaces: true });
    return [];
  } catch (error) {
    return [`{${what}: ${error instanceof Error ? error.message : String(error)}}`];
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new RegistryError(400, 400, 'Unrecognized request body: not JSON');
  }
}
