/** Header names the runtime writes. Stable: tools and the verifier read them. */
export const Headers = {
  errorKind: 'exactly.error.kind',
  errorMessage: 'exactly.error.message',
  sourceTopic: 'exactly.source.topic',
  sourcePartition: 'exactly.source.partition',
  sourceOffset: 'exactly.source.offset',
} as const;

export function sourceHeaders(topic: string, partition: number, offset: string): Record<string, string> {
  return {
    [Headers.sourceTopic]: topic,
    [Headers.sourcePartition]: String(partition),
    [Headers.sourceOffset]: offset,
  };
}
