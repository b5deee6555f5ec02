import { parseArgs } from 'node:util';
import { type Compression, run } from '@exactly/runtime';
import { resolveConnection } from '../brokers.js';
import { loadProcessor } from '../load-processor.js';
import { startProgressLine } from '../progress.js';

const USAGE = `usage: exactly run <processor.ts> [--brokers host:port,... | --local] [--config client.properties]
                   [--commit-interval ms] [--max-batch n]
                   [--create-topics] [--partitions n] [--metrics-port port] [--provenance]
                   [--transaction-timeout ms] [--session-timeout ms] [--log-level info]
                   [--client kafkajs|platformatic] [--instance-id name] [--state-dir dir]
                   [--startup-timeout ms] [--compression none|gzip|snappy|lz4|zstd]
                   [--postgres postgres://user:password@host:5432/db]
                   [--rabbitmq amqp://user:password@host:5672/vhost] [--workers n|auto]
Brokers: --brokers, else $KAFKA_BROKERS, else bootstrap.servers of --config; --local uses the broker of
\`exactly kafka start\` (for development). --config: a Kafka client.properties (security.protocol, sasl.*, ssl.*);
a value may be \${env:NAME} to keep a secret in the environment.
--postgres: the database a processor's table outputs write to (else $DATABASE_URL); \`exactly postgres start\`
runs one for development. Prefer $DATABASE_URL for a URL with a password (a flag shows in ps).
--rabbitmq: the broker of a queue input or exchange outputs (else $RABBITMQ_URL); \`exactly rabbitmq start\`
runs one for development.
--workers: members of the group run by this command, each a process of its own (auto: one per core, at most
one per input partition); supervised, with one metrics endpoint and one graceful stop.`;

/** `exactly run`: runs a processor until SIGTERM/SIGINT (graceful; a second signal exits at once). */
export async function runCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      brokers: { type: 'string' },
      config: { type: 'string' },
      local: { type: 'boolean', default: false },
      'startup-timeout': { type: 'string' },
      'commit-interval': { type: 'string' },
      'max-batch': { type: 'string' },
      'create-topics': { type: 'boolean', default: false },
      partitions: { type: 'string' },
      'metrics-port': { type: 'string' },
      provenance: { type: 'boolean', default: false },
      'transaction-timeout': { type: 'string' },
      'session-timeout': { type: 'string' },
      'log-level': { type: 'string' },
      client: { type: 'string' },
      'instance-id': { type: 'string' },
      'state-dir': { type: 'string' },
      compression: { type: 'string' },
      postgres: { type: 'string' },
      rabbitmq: { type: 'string' },
      workers: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const [file] = positionals;
  if (values.help || !file) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const number = (flag: string, value: string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (!Number.isFinite(parsed)) throw new Error(`--${flag} must be a number, got '${value}'`);
    return parsed;
  };
  const processor = await loadProcessor(file);
  const connection = await resolveConnection(values, (line) => process.stderr.write(`${line}\n`));
  const app = await run(processor, {
    ...connection,
    commitIntervalMs: number('commit-interval', values['commit-interval']),
    maxBatchRecords: number('max-batch', values['max-batch']),
    createTopics: values['create-topics'],
    inputPartitions: number('partitions', values.partitions),
    metricsPort: number('metrics-port', values['metrics-port']),
    provenance: values.provenance,
    transactionTimeoutMs: number('transaction-timeout', values['transaction-timeout']),
    sessionTimeoutMs: number('session-timeout', values['session-timeout']),
    logLevel: (values['log-level'] as 'info' | undefined) ?? 'info',
    client: (values.client ?? process.env.EXACTLY_CLIENT) as 'kafkajs' | 'platformatic' | undefined,
    instanceId: values['instance-id'] ?? process.env.EXACTLY_INSTANCE_ID,
    stateDir: values['state-dir'] ?? process.env.EXACTLY_STATE_DIR,
    startupTimeoutMs: number('startup-timeout', values['startup-timeout']),
    compression: values.compression as Compression | undefined,
    postgres: values.postgres,
    rabbitmq: values.rabbitmq,
    workers: values.workers === 'auto' ? 'auto' : number('workers', values.workers),
  });
  const progress = process.stdout.isTTY ? startProgressLine(app) : undefined;

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      process.stderr.write(`\n${signal} again: exiting now without waiting for the open transactions.\n`);
      process.exit(130);
    }
    process.stderr.write(`\n${signal}: stopping (finishing open transactions; ${signal} again to exit now)...\n`);
    void app.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await app.done;
    return 0;
  } finally {
    progress?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
