import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { mergeRuns, type RecordedRun, reliabilityDoc } from '../chaos/reliability-doc.js';
import { type ChaosReport, runChaos } from '../chaos/run-chaos.js';
import { runRabbitMQChaos } from '../chaos/run-rabbitmq-chaos.js';

const USAGE = `usage: exactly chaos [--records 50000] [--partitions 6] [--instances 3] [--kills 20] [--zombies 3]
                     [--broker-kills 2] [--restarts 2] [--seed n] [--client kafkajs|platformatic] [--nodes 1|3]
                     [--workers n]
                     [--stateful [--accounts 10000] [--local-state]]
                     [--postgres [--phase-kills 20] [--postgres-crashes 5]]
                     [--rabbitmq [--phase-kills 20] [--rabbitmq-kills 5]]
                     [--report file.json] [--write-docs docs/reliability.md]`;

/** `pnpm chaos`: a seeded chaos run against a local broker of its own, ending in the verifier's verdict. */
export async function chaosCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      records: { type: 'string', default: '50000' },
      partitions: { type: 'string', default: '6' },
      instances: { type: 'string', default: '3' },
      kills: { type: 'string', default: '20' },
      zombies: { type: 'string', default: '3' },
      'broker-kills': { type: 'string', default: '2' },
      restarts: { type: 'string', default: '2' },
      seed: { type: 'string' },
      client: { type: 'string', default: 'kafkajs' },
      nodes: { type: 'string', default: '1' },
      workers: { type: 'string', default: '1' },
      stateful: { type: 'boolean', default: false },
      accounts: { type: 'string', default: '10000' },
      'local-state': { type: 'boolean', default: false },
      postgres: { type: 'boolean', default: false },
      'phase-kills': { type: 'string', default: '20' },
      'postgres-crashes': { type: 'string', default: '5' },
      rabbitmq: { type: 'boolean', default: false },
      'rabbitmq-kills': { type: 'string', default: '5' },
      report: { type: 'string' },
      'write-docs': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const int = (flag: string, value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${flag} must be a whole number, got '${value}'`);
    return n;
  };
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : int('seed', values.seed);
  const options = {
    records: int('records', values.records),
    partitions: int('partitions', values.partitions),
    instances: int('instances', values.instances),
    kills: int('kills', values.kills),
    zombies: int('zombies', values.zombies),
    brokerKills: int('broker-kills', values['broker-kills']),
    restarts: int('restarts', values.restarts),
    seed,
    client: clientName(values.client),
    nodes: int('nodes', values.nodes),
    workers: int('workers', values.workers),
    ...(values.stateful
      ? { stateful: { accounts: int('accounts', values.accounts), localState: values['local-state'] } }
      : {}),
    ...(values.postgres
      ? {
          postgres: {
            phaseKills: int('phase-kills', values['phase-kills']),
            crashes: int('postgres-crashes', values['postgres-crashes']),
          },
        }
      : {}),
  };
  if (values.stateful && values.postgres)
    throw new Error('--stateful and --postgres run different processors: choose one');
  if (options.nodes < 1) throw new Error('--nodes must be at least 1');
  if (options.workers < 1) throw new Error('--workers must be at least 1');
  if (values.rabbitmq) {
    if (options.workers > 1) throw new Error('--rabbitmq: a queue has one active consumer; drop --workers');
    if (values.stateful || values.postgres)
      throw new Error('--rabbitmq runs a processor of its own: drop --stateful and --postgres');
    return rabbitmqChaos(
      options,
      int('phase-kills', values['phase-kills']),
      int('rabbitmq-kills', values['rabbitmq-kills']),
      values.report,
    );
  }
  process.stderr.write(`chaos: ${JSON.stringify(options)} (replay with --seed ${seed})\n`);
  const report: ChaosReport = await runChaos({ ...options, log: (line) => process.stderr.write(`chaos: ${line}\n`) });
  const json = JSON.stringify(report, null, 2);
  process.stdout.write(`${json}\n`);
  if (values.report) await writeFile(values.report, `${json}\n`);
  // The command to repeat the run, without the flags that only say where to write files.
  const fileFlags = new Set(['--report', '--write-docs']);
  const shown = args.filter((arg, i) => !fileFlags.has(arg) && !fileFlags.has(args[i - 1] ?? ''));
  const command = `pnpm chaos ${shown.join(' ')}`.trim();
  if (values['write-docs']) await writeReliabilityDoc(values['write-docs'], report, options.client, command);
  process.stderr.write(`chaos: ${report.verdict.ok ? 'PASS' : 'FAIL'}\n`);
  return report.verdict.ok ? 0 : 1;
}

/** `pnpm chaos --rabbitmq`: a queue read by several instances, one active at a time (see runRabbitMQChaos). */
async function rabbitmqChaos(
  options: {
    records: number;
    instances: number;
    kills: number;
    zombies: number;
    brokerKills: number;
    seed: number;
    client: 'kafkajs' | 'platformatic';
  },
  phaseKills: number,
  rabbitmqKills: number,
  reportFile: string | undefined,
): Promise<number> {
  const settings = {
    records: options.records,
    instances: options.instances,
    kills: options.kills,
    zombies: options.zombies,
    brokerKills: options.brokerKills,
    phaseKills,
    rabbitmqKills,
    seed: options.seed,
    client: options.client,
  };
  process.stderr.write(`chaos: rabbitmq ${JSON.stringify(settings)} (replay with --seed ${options.seed})\n`);
  const report = await runRabbitMQChaos({ ...settings, log: (line) => process.stderr.write(`chaos: ${line}\n`) });
  const json = JSON.stringify(report, null, 2);
  process.stdout.write(`${json}\n`);
  if (reportFile) await writeFile(reportFile, `${json}\n`);
  process.stderr.write(`chaos: ${report.verdict.ok ? 'PASS' : 'FAIL'}\n`);
  return report.verdict.ok ? 0 : 1;
}

function clientName(value: string): 'kafkajs' | 'platformatic' {
  if (value !== 'kafkajs' && value !== 'platformatic')
    throw new Error(`--client must be kafkajs or platformatic, got '${value}'`);
  return value;
}

/** Writes the doc from the latest full run of each client, kept next to it as JSON. */
async function writeReliabilityDoc(docPath: string, report: ChaosReport, client: string, command: string) {
  const runsPath = docPath.replace(/\.md$/, '-runs.json');
  const previous = await readFile(runsPath, 'utf8').then(
    (text) => JSON.parse(text) as RecordedRun[],
    () => [],
  );
  const { verdict, logs: _logs, ...rest } = report;
  const { outputs: _outputs, ...totals } = verdict;
  const runs = mergeRuns(previous, { client, command, report: { ...rest, verdict: totals } });
  await writeFile(runsPath, `${JSON.stringify(runs, null, 2)}\n`);
  await writeFile(docPath, reliabilityDoc(runs));
}
