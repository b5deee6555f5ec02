/**
 * KafkaJS's coordinator lookup, reporting a refusal instead of hiding it.
 *
 * KafkaJS asks each broker in turn for a group's or transactional id's coordinator and, if every one fails,
 * throws "Failed to find group coordinator": an authorization failure (no DESCRIBE on the transactional id or
 * the group) becomes a message that points nowhere, and is retried as if the cluster were unavailable. This
 * version throws the broker's own error when a broker refused, so the caller sees
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED or GROUP_AUTHORIZATION_FAILED. Otherwise it behaves as KafkaJS's.
 */
interface ProtocolError extends Error {
  readonly type?: string;
}

interface ClusterInternals {
  readonly brokerPool: {
    withBroker<T>(callback: (entry: { broker: CoordinatorAsker }) => Promise<T>): Promise<T | null>;
  };
  retrier<T>(attempt: (bail: (error: Error) => void) => Promise<T>): Promise<T>;
}

interface CoordinatorAsker {
  findGroupCoordinator(request: { groupId: string; coordinatorType: number }): Promise<unknown>;
}

const REFUSALS = new Set(['TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED']);

export function reportingCoordinatorLookup(notFound: new (message: string) => Error) {
  return async function findGroupCoordinatorMetadata(
    this: ClusterInternals,
    request: { groupId: string; coordinatorType: number },
  ): Promise<unknown> {
    let refusal: ProtocolError | undefined;
    const found = await this.brokerPool.withBroker(({ broker }) =>
      this.retrier(async (bail) => {
        try {
          return await broker.findGroupCoordinator(request);
        } catch (error) {
          const type = (error as ProtocolError).type;
          if (type === 'GROUP_COORDINATOR_NOT_AVAILABLE') throw error; // retried
          if (type !== undefined && REFUSALS.has(type)) refusal = error as ProtocolError;
          bail(error as Error);
          return undefined;
        }
      }),
    );
    if (found) return found;
    if (refusal) throw refusal;
    throw new notFound('Failed to find group coordinator');
  };
}
