import { existsSync, readFileSync } from 'node:fs';
import { quietKafkaJsWarnings } from '@exactly/runtime';
import { UsageError } from './brokers.js';

const USAGE = `exactly: exactly-once stream processing on Apache Kafka

Usage:
  exactly run <processor.ts> [--brokers host:port,... | --local] [--commit-interval ms] [--max-batch n]
                             [--create-topics] [--metrics-port port] [--state-dir dir] [--startup-timeout ms]
  exactly verify --input <topic> --outputs <t1,t2> [--brokers ...] [--expect per-input=N]
  exactly kafka start|stop|status      a local Kafka for development (start --nodes 3: a 3-node cluster)
  exactly postgres start|stop|status   a local PostgreSQL for development (two-phase commit on)
  exactly rabbitmq start|stop|status   a local RabbitMQ for development
  exactly --version

In a clone of Exactly's repository:
  exactly chaos [--records n] [--kills n] [--zombies n] [--broker-kills n] [--seed n]
  exactly demo                         what \`pnpm start\` runs

Brokers: --brokers, else $KAFKA_BROKERS; --local uses the broker of \`exactly kafka start\` (development).
`;

type Command = (args: string[]) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./commands/run.js')).runCommand,
  verify: async () => (await import('./commands/verify.js')).verifyCommand,
  chaos: async () => inRepository('chaos', chaosProcessors, (await import('./commands/chaos.js')).chaosCommand),
  kafka: async () => (await import('./commands/kafka.js')).kafkaCommand,
  postgres: async () => (await import('./commands/postgres.js')).postgresCommand,
  rabbitmq: async () => (await import('./commands/rabbitmq.js')).rabbitmqCommand,
  demo: async () => inRepository('demo', examples, (await import('./commands/demo.js')).demoCommand),
};

/** What demo and chaos run, which only a clone of the repository has (the packages do not ship them). */
const examples = new URL('../../../examples/', import.meta.url);
const chaosProcessors = new URL('../chaos/', import.meta.url);

function inRepository(name: string, needs: URL, command: Command): Command {
  if (existsSync(needs)) return command;
  return async () => {
    throw new UsageError(
      `'exactly ${name}' runs in a clone of Exactly's repository (it needs its examples/); ` +
        'in your own service, use exactly run and exactly verify',
    );
  };
}

export async function main(argv: string[]): Promise<number> {
  quietKafkaJsWarnings();
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`exactly: unknown command '${name}'\n\n${USAGE}`);
    return 2;
  }
  return (await load())(rest);
}

/** The CLI's version, from its package.json. */
function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}
