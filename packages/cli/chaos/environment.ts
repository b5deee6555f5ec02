// What the chaos processors share: the names the chaos runner gives them, and the record it feeds.

/** The input's value: a unique id per record. */
export interface Item {
  readonly id: number;
}

/** A setting the chaos runner passes in the environment (topic, group and table names). */
export function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (the chaos runner sets it)`);
  return value;
}
