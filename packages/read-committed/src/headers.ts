/**
 * A KafkaJS message's headers with one value per name. Kafka allows a name more than once; Exactly's records keep
 * one value per name, and the last one written wins (what a producer setting a header twice meant last).
 */
export function lastHeaderValues<T>(headers: Readonly<Record<string, T | T[] | undefined>> | undefined) {
  const out: Record<string, T | undefined> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name] = Array.isArray(value) ? value.at(-1) : value;
  return out;
}
