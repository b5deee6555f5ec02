/**
 * Caps the API versions a platformatic client uses where it picks one a client must not.
 *
 * The client takes the highest version of each API that the broker lists. AddPartitionsToTxn v4 and up are
 * broker-to-broker (KIP-890: a broker verifying a partition for a producer) and need CLUSTER_ACTION on the
 * cluster: on a cluster with ACLs, an application user's transaction fails at its first send with "Cluster
 * authorization failed" (a super user, or a cluster without an authorizer, hides it). Java producers send v3.
 * To report upstream (@platformatic/kafka 2.12.1).
 */
const CLIENT_MAX_VERSIONS: Readonly<Record<string, number>> = { AddPartitionsToTxn: 3 };

interface ApiVersion {
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
}

/** The client's list of the broker's API versions lives under this symbol (set when it first connects). */
const API_LIST = 'plt.kafka.base.apis';

export function capClientApiVersions(client: object): void {
  const key = Object.getOwnPropertySymbols(client).find((symbol) => symbol.description === API_LIST);
  if (key === undefined) throw new Error(`@platformatic/kafka changed: no '${API_LIST}' on its client to cap`);
  let apis = capped((client as Record<symbol, ApiVersion[]>)[key] ?? []);
  Object.defineProperty(client, key, {
    configurable: true,
    get: () => apis,
    set: (listed: ApiVersion[]) => {
      apis = capped(listed);
    },
  });
}

function capped(apis: readonly ApiVersion[]): ApiVersion[] {
  return apis.map((api) => {
    const max = CLIENT_MAX_VERSIONS[api.name];
    return max === undefined || api.maxVersion <= max ? api : { ...api, maxVersion: Math.max(max, api.minVersion) };
  });
}
