import { parseArgs } from 'node:util';
import { findSharedKafka, findSharedSecureKafka, type Kafka, type LocalCluster, startKafka } from '@exactly/testkit';

const USAGE = `usage: exactly kafka start [--nodes 1|3] [--secure] | stop [--secure] | status [--secure]
  --secure: one node with a SASL_SSL listener (SCRAM-SHA-512), certificates made at start, ACLs on (the
            StandardAuthorizer), an admin super user and an application user; writes a client.properties for each.`;

/** `exactly kafka start|stop|status`: the shared local Kafka that `exactly run` and `pnpm start` use. */
export async function kafkaCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      nodes: { type: 'string', default: '1' },
      secure: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const [action] = positionals;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.secure && action !== undefined) return secureCommand(action, values.nodes);
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

/** `exactly kafka start|stop|status --secure`: the shared secured local Kafka, apart from the plain one. */
async function secureCommand(action: string, nodes: string): Promise<number> {
  const say = (text: string) => process.stdout.write(`${text}\n`);
  switch (action) {
    case 'start': {
      if (nodes !== '1') throw new Error('--secure runs one node (leave out --nodes)');
      const started = Date.now();
      const running = await findSharedSecureKafka();
      const kafka = running ?? (await startKafka({ mode: 'shared', secure: true }));
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      say(
        running
          ? `Secured Kafka is already running at ${kafka.brokers} (${describe(kafka.cluster as LocalCluster)}).`
          : `Secured Kafka (SASL_SSL, SCRAM-SHA-512, ACLs on) started at ${kafka.brokers} in ${seconds} s.`,
      );
      say(secureFiles(kafka));
      say('Stop it with: exactly kafka stop --secure');
      return 0;
    }
    case 'stop': {
      const running = await findSharedSecureKafka();
      if (!running) {
        say('No secured local Kafka is running.');
        return 0;
      }
      await running.stop();
      say('Secured Kafka stopped.');
      return 0;
    }
    case 'status': {
      const running = await findSharedSecureKafka();
      say(running ? `running at ${running.brokers}\n${secureFiles(running)}` : 'not running');
      return running ? 0 : 3;
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      return 2;
  }
}

function secureFiles(kafka: Kafka): string {
  const secure = kafka.secure;
  if (!secure) return '';
  return [
    `  application user 'app' (no ACLs yet): ${secure.appProperties}`,
    `  admin (super user):                   ${secure.adminProperties}`,
    `  certificate authority:                ${secure.caFile}`,
    '  Grant the ACLs a processor needs (docs/operations.md), then: exactly run ./processor.ts --config <client.properties>',
  ].join('\n');
}
