import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { Serde } from '../serde.js';

export interface JsonOptions<T> {
  /**
   * A Standard Schema validator (zod, valibot, arktype, ...). Decoded values that fail it are dead-lettered
   * with the validator's messages; outputs that fail it are refused with an EncodeError.
   */
  readonly schema?: StandardSchemaV1<unknown, T>;
}

/** JSON text in UTF-8. Without a schema, `T` is trusted as declared; pass `schema` to check it. */
export function json<T>(options: JsonOptions<T> = {}): Serde<T> {
  const { schema } = options;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const check = (value: unknown): T | Promise<T> => {
    if (!schema) return value as T;
    const result = schema['~standard'].validate(value);
    return result instanceof Promise ? result.then(unwrap) : unwrap(result);
  };
  return {
    name: 'json',
    serialize: (value) => {
      const encode = (checked: T): Buffer => {
        const text = JSON.stringify(checked);
        if (text === undefined) throw new TypeError(`${typeof checked} cannot be written as JSON`);
        return Buffer.from(text, 'utf8');
      };
      const checked = check(value);
      return checked instanceof Promise ? checked.then(encode) : encode(checked);
    },
    deserialize: (bytes) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(decoder.decode(bytes));
      } catch (error) {
        throw new TypeError(`not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
      }
      return check(parsed);
    },
  };
}

function unwrap<T>(result: StandardSchemaV1.Result<T>): T {
  if (result.issues === undefined) return result.value;
  const details = result.issues.map((issue) => {
    const path = issue.path?.map((segment) => (typeof segment === 'object' ? segment.key : segment)).join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  throw new TypeError(`schema validation failed: ${details.join('; ')}`);
}
