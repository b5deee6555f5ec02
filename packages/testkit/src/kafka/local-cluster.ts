import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalBroker, newClusterId } from './local-broker.js';
import { freePort } from './ports.js';
import type { SecureSetup } from './secure.js';

export interface LocalClusterOptions {
  /** Holds the cluster: one node in `dir` itself, several in `dir/node-<id>`; reused across restarts. */
  readonly dir: string;
  /** How many KRaft nodes (each broker and controller). Default 1. */
  readonly nodes?: number;
  /** Client port of the first node (the next ones take the ports after it when free). Default: any free port. */
  readonly port?: number;
  /** Keep the nodes running after this Node process exits (what `exactly kafka start` wants). */
  readonly detached?: boolean;
  /** Extra server.properties entries for every node. */
  readonly config?: Readonly<Record<string, string>>;
  /** A SASL_SSL listener with ACLs (one node only): see secure.ts. */
  readonly secure?: SecureSetup;
}

interface ClusterState {
  readonly clusterId: string;
  readonly nodes: ReadonlyArray<{ readonly nodeId: number; readonly port: number; readonly controllerPort: number }>;
}

/**
 * A local Kafka of one or more KRaft nodes on 127.0.0.1, from Apache Kafka's jars. With several nodes, internal
 * and created topics have 3 replicas and need 2 in sync, and any node can be killed and restarted (chaos kills
 * the group and transaction coordinators of running processors). Everything it starts, stop() ends by PID.
 */
export class LocalCluster {
  private constructor(
    readonly dir: string,
    /** In node id order: nodes[i] has id i + 1. */
    readonly nodes: readonly LocalBroker[],
  ) {}

  /** The bootstrap list: every node's client address. */
  get brokers(): string {
    return this.nodes.map((node) => node.brokers).join(',');
  }

  get pids(): number[] {
    return this.nodes.map((node) => node.pid).filter((pid): pid is number => pid !== undefined);
  }

  /** The node with Kafka's `node.id` = `nodeId` (1-based). */
  node(nodeId: number): LocalBroker {
    const node = this.nodes[nodeId - 1];
    if (!node) throw new Error(`this cluster has nodes 1 to ${this.nodes.length}, not ${nodeId}`);
    return node;
  }

  /** The cluster whose state lives in `dir`, if all its nodes are running now. */
  static async attach(dir: string): Promise<LocalCluster | undefined> {
    const state = await readState(dir);
    if (!state) {
      const single = await LocalBroker.attach(dir);
      return single && new LocalCluster(dir, [single]);
    }
    const nodes = await Promise.all(state.nodes.map(({ nodeId }) => LocalBroker.attach(nodeDir(dir, nodeId))));
    if (nodes.some((node) => node === undefined)) return undefined;
    return new LocalCluster(dir, nodes as LocalBroker[]);
  }

  /** Formats the nodes on first use and starts them together (a quorum needs them all); resolves when all answer. */
  static async start(options: LocalClusterOptions): Promise<LocalCluster> {
    const count = options.nodes ?? 1;
    if (!Number.isInteger(count) || count < 1) throw new Error(`a cluster needs at least one node, got ${count}`);
    if (options.secure && count !== 1) throw new Error('a secured local Kafka has one node');
    if (count === 1) {
      const node = await LocalBroker.start({ ...options });
      return new LocalCluster(options.dir, [node]);
    }
    await mkdir(options.dir, { recursive: true });
    const previous = await readState(options.dir);
    if (previous && previous.nodes.length !== count) {
      throw new Error(
        `${options.dir} holds a ${previous.nodes.length}-node cluster, not ${count}: stop it and remove the directory, or ask for ${previous.nodes.length} nodes`,
      );
    }
    const state: ClusterState = previous ?? {
      clusterId: newClusterId(),
      nodes: await choosePorts(count, options.port ?? 0),
    };
    await writeFile(join(options.dir, 'cluster.json'), JSON.stringify(state, null, 2));
    const voters = state.nodes.map(({ nodeId, controllerPort }) => ({ nodeId, controllerPort }));
    const nodes = await Promise.all(
      state.nodes.map(({ nodeId, port, controllerPort }) =>
        LocalBroker.start({
          dir: nodeDir(options.dir, nodeId),
          port,
          detached: options.detached,
          config: options.config,
          node: { nodeId, controllerPort, voters, clusterId: state.clusterId },
        }),
      ),
    ).catch(async (error: unknown) => {
      // Whatever started must not outlive a failed start.
      for (const { nodeId } of state.nodes) await (await LocalBroker.attach(nodeDir(options.dir, nodeId)))?.kill();
      throw error;
    });
    return new LocalCluster(options.dir, nodes);
  }

  /** Controlled shutdown of every node, each SIGKILLed if it takes longer than 30 s. Leaves no process behind. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
  }

  /** kill -9 of every node. */
  async kill(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.kill()));
  }
}

const nodeDir = (dir: string, nodeId: number) => join(dir, `node-${nodeId}`);

async function readState(dir: string): Promise<ClusterState | undefined> {
  const file = join(dir, 'cluster.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(await readFile(file, 'utf8')) as ClusterState;
}

/** Client ports from `first` on where free (else any), and a free controller port per node. */
async function choosePorts(count: number, first: number): Promise<ClusterState['nodes']> {
  const nodes: { nodeId: number; port: number; controllerPort: number }[] = [];
  const taken = new Set<number>();
  const pick = async (preferred: number) => {
    let port = await freePort(preferred);
    while (taken.has(port)) port = await freePort(0);
    taken.add(port);
    return port;
  };
  for (let nodeId = 1; nodeId <= count; nodeId++) {
    const port = await pick(first === 0 ? 0 : first + nodeId - 1);
    nodes.push({ nodeId, port, controllerPort: await pick(0) });
  }
  return nodes;
}
