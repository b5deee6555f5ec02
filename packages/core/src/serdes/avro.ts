import type { Serde } from '../serde.js';

// Placeholder: being implemented (issue 4).
export type AvroOptions = {};
export function avro<T>(_schema: object, _options: AvroOptions = {}): Serde<T> {
  throw new Error('avro() is not implemented yet');
}
