/** The topic setting that caps a record batch's size; the broker's `message.max.bytes` is its default. */
export const MAX_MESSAGE_BYTES = 'max.message.bytes';

/** How long a compacted topic keeps a delete (tombstone) once its segment is cleaned. */
export const DELETE_RETENTION_MS = 'delete.retention.ms';

/** Each topic's numeric `setting` from a DescribeConfigs answer, in the shape both clients can give. */
export function settingsOf(
  setting: string,
  described: ReadonlyArray<{
    readonly topic: string;
    readonly entries: ReadonlyArray<{ readonly configName: string; readonly configValue?: string | null }>;
  }>,
): Map<string, number> {
  const values = new Map<string, number>();
  for (const { topic, entries } of described) {
    const value = Number(entries.find((e) => e.configName === setting)?.configValue);
    if (Number.isFinite(value) && value > 0) values.set(topic, value);
  }
  return values;
}
