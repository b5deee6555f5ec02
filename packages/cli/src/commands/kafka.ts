import { parseArgs } from 'node:util';
import { findSharedKafka, type LocalCluster, startKafka } from '@exactly/testkit';

const USAGE = 'usage: exactly kafka start [--nodes 1|3] | stop | status';

/** `exactly kafka start|stop|status`: the shared local Kafka that `exactly run` and `pnpm start` use. */
export async function kafkaCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { nodes: { type: 'string', default: '1' }, help: { type: 'boolean', default: false } },
  });
  const [action] = positionals;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  switch (action) {
    case 'start': {
      const nodes = Number(values.nodes);
      if (!Number.isInteger(nodes) || nodes < 1)
        throw new Error(`--nodes must be a whole number >= 1, got '${values.nodes}'`);
      const started = Date.now();
      const running = await findSharedKafka();
      if (running && running.nodes.length === nodes) {
        process.stdout.write(`Kafka is already running at ${running.brokers} (${describe(running)}); reusing it.\n`);
        return 0;
      }
      const kafka = await startKafka({ mode: 'shared', localOnly: true, nodes });
      const cluster = kafka.cluster as LocalCluster;
      process.stdout.write(
        `Kafka started at ${kafka.brokers} (${describe(cluster)}) in ${((Date.now() - started) / 1000).toFixed(1)} s.\n` +
          `Stop it with: exactly kafka stop\n`,
      );
      return 0;
    }
    case 'stop': {
      const running = await findSharedKafka();
      if (!running) {
        process.stdout.write('No local Kafka is running.\n');
        return 0;
      }
      const what = describe(running);
      await running.stop();
      process.stdout.write(`Kafka (${what}) stopped.\n`);
      return 0;
    }
    case 'status': {
      const running = await findSharedKafka();
      process.stdout.write(running ? `running at ${running.brokers} (${describe(running)})\n` : 'not running\n');
      return running ? 0 : 3;
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      return 2;
  }
}

function describe(cluster: LocalCluster): string {
  const pids = cluster.pids;
  return cluster.nodes.length === 1 ? `pid ${pids[0]}` : `${cluster.nodes.length} nodes, pids ${pids.join(', ')}`;
}
