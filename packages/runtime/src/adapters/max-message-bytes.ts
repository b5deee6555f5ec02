/** The topic setting that caps a record batch's size; the broker's `message.max.bytes` is its default. */
export const MAX_MESSAGE_BYTES = 'max.message.bytes';

/** Each topic's limit from a DescribeConfigs answer, in the shape both clients can give. */
export function limitsOf(
  described: ReadonlyArray<{
    readonly topic: string;
    readonly entries: ReadonlyArray<{ readonly configName: string; readonly configValue?: string | null }>;
  }>,
): Map<string, number> {
  const limits = new Map<string, number>();
  for (const { topic, entries } of described) {
    const value = Number(entries.find((e) => e.configName === MAX_MESSAGE_BYTES)?.configValue);
    if (Number.isFinite(value) && value > 0) limits.set(topic, value);
  }
  return limits;
}
