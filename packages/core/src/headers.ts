/** Header names the runtime writes. Stable: tools and the verifier read them. */
export const Headers = {
  errorKind: 'exactly.error.kind',
  errorMessage: 'exactly.error.message',
  /** On a dead letter whose input did not fit the dead-letter topic: what was left out, and why. */
  omitted: 'exactly.error.omitted',
  sourceTopic: 'exactly.source.topic',
  sourcePartition: 'exactly.source.partition',
  sourceOffset: 'exactly.source.offset',
  /** The input record's timestamp (ms): end-to-end delay can be measured from the output topics alone. */
  sourceTimestamp: 'exactly.source.timestamp',
  /** On a dead letter from a queue: the queue, and the message's id (queues have no offsets). */
  sourceQueue: 'exactly.source.queue',
  sourceMessageId: 'exactly.source.message-id',
} as const;

export function sourceHeaders(
  topic: string,
  partition: number,
  offset: string,
  timestamp: number,
): Record<string, string> {
  return {
    [Headers.sourceTopic]: topic,
    [Headers.sourcePartition]: String(partition),
    [Headers.sourceOffset]: offset,
    [Headers.sourceTimestamp]: String(timestamp),
  };
}

export function queueSourceHeaders(queue: string, messageId: string, timestamp: number): Record<string, string> {
  return {
    [Headers.sourceQueue]: queue,
    [Headers.sourceMessageId]: messageId,
    [Headers.sourceTimestamp]: String(timestamp),
  };
}
