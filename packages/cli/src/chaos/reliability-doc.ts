import type { ChaosReport } from './run-chaos.js';

/** One full run as docs/reliability.md records it: the report, trimmed to what the table shows. */
export interface RecordedRun {
  readonly client: string;
  readonly command: string;
  readonly report: Pick<
    ChaosReport,
    'seed' | 'records' | 'partitions' | 'instances' | 'events' | 'seconds' | 'abortedInLog' | 'verifySeconds'
  > &
    Partial<
      Pick<
        ChaosReport,
        'nodes' | 'brokerKills' | 'inputsLost' | 'totals' | 'localState' | 'phaseKills' | 'workers' | 'workerKills'
      >
    > & {
      readonly verdict: Omit<ChaosReport['verdict'], 'outputs'>;
    };
}

/**
 * What a column is: the client, the workers per instance and the cluster's size when more than one, and whether
 * it kept state or wrote to PostgreSQL.
 */
function columnOf(run: RecordedRun): string {
  const nodes = run.report.nodes ?? 1;
  const workers = run.report.workers ?? 1;
  const state = run.report.totals ? [run.report.localState ? 'stateful, local copies' : 'stateful'] : [];
  const database = run.report.phaseKills ? ['PostgreSQL'] : [];
  const parts = [
    run.client,
    ...(workers === 1 ? [] : [`${workers} workers per instance`]),
    ...(nodes === 1 ? [] : [`${nodes} nodes`]),
    ...state,
    ...database,
  ];
  return parts.join(', ');
}

/** The latest run per client and cluster size: a new run replaces the one of its column. */
export function mergeRuns(runs: readonly RecordedRun[], latest: RecordedRun): RecordedRun[] {
  return [...runs.filter((r) => columnOf(r) !== columnOf(latest)), latest].sort(
    (a, b) => (a.report.nodes ?? 1) - (b.report.nodes ?? 1) || a.client.localeCompare(b.client),
  );
}

/** Broker kills by the role the node had, and the slowest return to committing after a coordinator kill. */
function coordinatorRows(report: RecordedRun['report']): Array<[string, string | number]> {
  const kills = report.brokerKills ?? [];
  const of = (role: string) => kills.filter((k) => k.role === role);
  const coordinators = [...of('group coordinator'), ...of('transaction coordinator')];
  const times = coordinators.map((k) => k.recoverySeconds);
  const worst = times.some((t) => t === undefined)
    ? 'did not recover'
    : times.length > 0
      ? `${Math.max(...(times as number[])).toFixed(1)} s`
      : '-';
  return [
    [
      'Kafka nodes (replication factor / min in-sync)',
      (report.nodes ?? 1) > 1 ? `${report.nodes} (3 / 2)` : '1 (1 / 1)',
    ],
    [
      'broker kills of the group coordinator / a transaction coordinator',
      `${of('group coordinator').length} / ${of('transaction coordinator').length}`,
    ],
    ['slowest return to committing after a coordinator kill', worst],
  ];
}

function rowsOf(report: RecordedRun['report']): Array<[string, string | number]> {
  const v = report.verdict;
  return [
    ['records fed (unique ids)', report.records],
    ['input records read back', v.inputs],
    ['fed ids missing from the input (the harness checking itself)', report.inputsLost ?? '-'],
    ['input partitions / processor instances', `${report.partitions} / ${report.instances}`],
    ['processor SIGKILLs (then restarted)', report.events.kill],
    [
      'with workers: SIGKILLs of one worker (its supervisor restarts it) / of a whole instance',
      report.workerKills ? `${report.workerKills.one} / ${report.workerKills.whole}` : '-',
    ],
    ['zombies (SIGSTOP past the session timeout, then SIGCONT)', report.events.zombie],
    ['broker kill -9 (then restarted)', report.events['broker-kill']],
    ...coordinatorRows(report),
    ['clean restarts (SIGTERM)', report.events.restart],
    [
      "PostgreSQL: SIGKILLs timed after PREPARE / after Kafka's commit (tried)",
      report.phaseKills
        ? `${report.phaseKills.prepared} / ${report.phaseKills.decided} (${report.events['phase-kill'] ?? 0})`
        : '-',
    ],
    [
      'PostgreSQL crashes (immediate shutdown, then start)',
      report.phaseKills ? (report.events['postgres-crash'] ?? 0) : '-',
    ],
    ['records of aborted transactions in the output logs', report.abortedInLog],
    ['**duplicates**', v.duplicated],
    ['**missing**', v.missing],
    ['**aborted records read by read_committed**', v.abortedRead],
    ['**per-partition order violations**', v.orderViolations],
    [
      '**stateful: wrong totals (a store change lost or doubled)**',
      report.totals
        ? `${report.totals.wrongTotals} (of ${report.totals.outputs} totals, ${report.totals.keys} accounts)`
        : '-',
    ],
    ...tableRows(report),
    ['outputs citing no input', v.orphans],
    ['verdict', v.ok ? 'PASS' : 'FAIL'],
    ['wall time (verification)', `${report.seconds} s (${report.verifySeconds.toFixed(1)} s)`],
  ];
}

/** With PostgreSQL: the table's check (rows once per input, a row exactly when its record is visible). */
function tableRows(report: RecordedRun['report']): Array<[string, string | number]> {
  const table = report.verdict.tables?.[0];
  const show = (value: number | undefined) => (value === undefined ? '-' : value);
  return [
    ['**PostgreSQL: rows duplicated / missing**', table ? `${table.duplicated} / ${table.missing}` : '-'],
    [
      '**PostgreSQL: rows without their record / records without their row**',
      table ? `${table.rowsWithoutOutput} / ${table.outputsWithoutRows}` : '-',
    ],
    ['**PostgreSQL: prepared transactions left**', show(table?.preparedLeft)],
  ];
}

/** docs/reliability.md, from the latest full run of each client: the table a reader checks first, then how to reproduce it. */
export function reliabilityDoc(runs: readonly RecordedRun[]): string {
  const tables = runs.map((r) => rowsOf(r.report));
  const labels = tables[0]?.map(([label]) => label) ?? [];
  const table = [
    `| | ${runs.map((r) => `\`${columnOf(r)}\``).join(' | ')} |`,
    `|---|${runs.map(() => '---|').join('')}`,
    ...labels.map((label, i) => `| ${label} | ${tables.map((rows) => rows[i]?.[1]).join(' | ')} |`),
  ].join('\n');
  return `# Reliability: chaos runs

\`pnpm chaos\` feeds records with unique ids over several partitions while processor instances (separate OS
processes running \`exactly run\`) are SIGKILLed and restarted, SIGSTOPped past their session timeout and
resumed (zombies), restarted cleanly, and the broker is killed with SIGKILL and restarted. With \`--nodes 3\`
the cluster has three KRaft nodes (replication factor 3, \`min.insync.replicas\` 2) and the kills take turns
at the node that coordinates the processors' consumer group, the node that coordinates a running instance's
transactions (both found by Kafka's own rule: the leader of the internal topic's partition for the key), and
any node; the killed node stays down 3-8 s while the others take over, and the run measures how long the
group takes to commit again. With \`--postgres\` each input becomes a record and a PostgreSQL row, committed
together by two-phase commit (docs/postgres.md); besides the kills above, processors are SIGKILLed inside the
commit's windows (after \`PREPARE TRANSACTION\`, and after Kafka's commit before \`COMMIT PREPARED\`) and
PostgreSQL is crashed, and the verifier also checks the table. Otherwise each processor fans every input out to two topics. When the events are over and the pipeline has drained, the verifier reads the
topics: every input must appear exactly once on each output topic, in input order per partition, and the
read_committed view must hold no record of an aborted transaction (checked against the transaction markers
in the log itself). Modelled on Apache Kafka's own transactions system test.

## Latest full runs, one per client adapter and cluster size

${runs.map((r) => `- \`${columnOf(r)}\`: \`${r.command}\` (seed ${r.report.seed}; the same seed gives the same schedule of events)`).join('\n')}

${table}

## RabbitMQ: a queue into Kafka, once

\`pnpm chaos --rabbitmq\` runs three \`exactly run\` instances on one RabbitMQ queue (single active consumer: one
active, two standbys), each message becoming a record on a Kafka topic and a message on an exchange, while a
publisher with confirms publishes persistent messages with ids (and publishes again, with the same id, what a
RabbitMQ kill left unconfirmed). Instances are SIGKILLed (also inside the commit's windows: after the exchange
messages are confirmed and before Kafka's commit, and after Kafka's commit before the acknowledgement), stopped
past their heartbeat and resumed (zombies), and the RabbitMQ and Kafka nodes are killed and restarted. Then the
verifier checks every published id exactly once in Kafka (read_committed), every record's exchange message at
least once with its stable id, and the queue empty. Full runs, seed 1 (docs/rabbitmq.md): kafkajs on the code of
2026-11-30, platformatic again on 2026-12-01's (one-pass produce requests):

| | kafkajs | platformatic |
|---|---:|---:|
| messages published (distinct ids) | 200,000 | 200,000 |
| publisher retries (same id, published again) | 199 | 0 |
| SIGKILLs / zombies / Kafka kills / RabbitMQ kills | 50 / 5 / 3 / 5 | 50 / 5 / 3 / 5 |
| kills timed in a commit's windows (landed: after confirms / after Kafka's commit) | 20 (10 / 9) | 20 (10 / 10) |
| redeliveries recognised by id (acknowledged, not processed) | 51,615 | 56,095 |
| **records in Kafka: duplicated / missing** | **0 / 0** | **0 / 0** |
| records citing no message / aborted records read | 0 / 0 | 0 / 0 |
| exchange: messages / distinct ids / ids published more than once | 269,137 / 200,000 / 59,900 | 252,789 / 200,000 / 47,044 |
| exchange: records whose message never arrived | 0 | 0 |
| left in the queue | 0 | 0 |
| verdict | PASS | PASS |
| wall time | 445 s | 414 s |

## What chaos has found

| date | finding | fix |
|---|---|---|
| 2026-11-25 | CI profile, seed 20261125: 4,183 inputs twice on each output topic. A zombie, resumed, fenced the partition's new owners *after* they had read the committed offset: KafkaJS sends the transactional \`InitProducerId\` only with the first transaction, not on \`connect()\`, so the engine read the position before it fenced. | \`init()\` now begins and aborts an empty transaction (InitProducerId, nothing else) before the offset is read; \`packages/runtime/test/fencing.test.ts\` fails without it. |
| 2026-11-25 | Broker kills only, seed 5: the group made no progress. KafkaJS gave up its consumer on an error it deems non-retriable (\`KafkaJSGroupCoordinatorNotFound\`), and a processor whose broker was down at start-up exited. | The adapter restarts the consumer itself; \`run()\` waits up to 60 s for the broker at start-up. |
| 2026-11-25 | Full profile: one instance never exited after SIGTERM. Closing the connections looked like a crash to KafkaJS, which restarted the consumer. | No restart once stopping; the CLI ends the process when its work is done. |
| 2026-11-25 | platformatic, CI profile, seed 20261125 (one run in CI, after several clean runs): 13,500 inputs twice. @platformatic/kafka stamps a message with the group generation current when the fetch *answer* arrives, so records fetched before a rebalance could carry the new generation, and the coordinator accepted their offsets from a member that no longer owned the partition. | Offsets are committed with the generation taken together with the assignment at the join, never the message's; records of an older stream are refused (ILLEGAL_GENERATION) or dropped. Later evidence (next row) makes the checker the likelier culprit: its verdict also counted 13,500 *aborted records read*, and its KafkaJS reader did let aborted records through; the generation change stays, being right either way. |
| 2026-11-30 | 3 nodes, seed 7 (the first 3-node run): the feeder's KafkaJS producer had acknowledged 20,000 records, the input held 19,836. KafkaJS 2.2.4's send remembers which *brokers* answered; when a partition's leader died mid-send and the partition moved to a broker that had already answered, the retry skipped it, and the send resolved. Exactly's KafkaJS adapter sends outputs the same way, inside transactions: a transaction would have committed without them. | \`@exactly/read-committed\` loads KafkaJS with a send that tracks written *partitions* (\`send-messages.test.ts\` shows KafkaJS's own losing 2 of 3 records and ours none); chaos now checks its own feed (\`inputsLost\`). |
| 2026-11-30 | Full 3-node profile, kafkajs, seed 1: 9,574 outputs twice, not the same inputs on the two output topics (so not a transaction committed twice: records written twice inside one). The corrected KafkaJS send retried as soon as one broker failed, while another broker's answer was still on its way; that broker's partitions went out again under new sequence numbers, and the broker kept both. | The send waits until every request of an attempt has settled before it retries (\`send-messages.test.ts\`: a fast failure beside a slow answer). |
| 2026-11-30 | 3 nodes, platformatic, seed 1 (300,000 records): 5,493 inputs twice on both output topics. A fetch stream that failed (a broker killed) was reopened at once from the group's stable offsets, while the poll in hand was still committing: the offsets were read before that transaction added its own, and since nothing had rebalanced, the group's generation let both the old transaction and the redo commit. | The stream is reopened only after the poll in hand is over (committed or aborted); a rewind waits the same way. The same profile then passed, with 7 such reopens. |
| 2026-11-30 | 3 nodes, platformatic, after the fix above: 79 inputs twice in one full run, then 93 in a 300,000-record run (seed 2). The verifier, now naming each copy's producer, showed both copies written by one producer, in consecutive transactions. Around a rebalance @platformatic/kafka refreshes its streams and fetched a partition again while a fetch was still out, so the stream delivered the same records twice, under a generation the coordinator still accepted. | The adapter delivers each record of a stream once: a record below its partition's next expected offset is dropped (and logged). |
| 2026-11-30 | 3 nodes: after a kill, the group committed again only once the node was back (12-19 s): a KRaft controller notices a dead broker after \`broker.session.timeout.ms\` (9 s), longer than the kill lasted, so leadership never moved. | The local cluster uses 3 s; recovery now happens while the node is down (5-12 s). Production clusters keep 9 s: expect that long. |
| 2026-11-30 | Review: the platformatic adapter sent offsets to the group coordinator named at the last join, so a coordinator that moved without a rebalance refused every commit. A mutation run (the coordinator looked up once and kept) confirmed it: after a kill one run did not commit again for more than 90 s. | The producer finds the group coordinator again after any refusal or lost connection; the 3-node CI profile requires every kill to be followed by a commit within 30 s. |
| 2026-11-30 | \`--postgres\`, platformatic, seed 1 (20,000 records, the first runs): 397 inputs with their record visible and no row, and one transaction left prepared. A processor SIGKILLed after Kafka's commit, before \`COMMIT PREPARED\`, left its partition's rows prepared; the next owner claimed a partition (and resolved what it found) only at its first new records, and none came before the run ended. | Partitions are claimed when assigned, so a dead owner's prepared transaction is resolved (and its locks released) one rebalance after its death; a drained run also means no prepared transaction left. \`run-tables.test.ts\` ("Kafka committed its batch") fails without it. |
| 2026-11-30 | Review of the same path: a \`PREPARE TRANSACTION\` whose answer is lost (the connection breaks, PostgreSQL crashes) leaves a prepared transaction the owner does not know; with KIP-447 (one producer, no re-open) it kept the partition's rows locked until the next rebalance. | A database failure in a batch drops its partitions' claims; the next transaction claims them again first, which resolves what is there (\`tables-recovery.test.ts\` fails without it). |
| 2026-11-30 | Review after the full PostgreSQL runs above: with KafkaJS (a batch per partition at once), each batch held a connection and took a second for its note (and each claim one for its clean-up of stale notes, which the new 24-partition test then caught in CI): 16 partitions or more exhausted the pool of 16 and stalled for good. Also: a failed \`COMMIT PREPARED\` on an input that then went idle stayed prepared, and a claim at assignment that failed once was not tried again. | The note and the claim's clean-up run on the connection already held; owed outcomes and failed claims are retried in the background; \`run-tables.test.ts\` (24 partitions) and \`tables-recovery.test.ts\` ("goes idle") fail without them. The full PostgreSQL runs above were run again with them (both clients PASS). |
| 2026-11-30 | \`--rabbitmq\`, CI size, kafkajs: 1,637 messages stayed in the queue. Instances restarted while the Kafka node was down kept failing start-up with ECONNREFUSED after Kafka was back, until their start-up timeout: the KafkaJS adapter's admin kept its first, rejected \`connect()\` and every retry met it again. (A processor started before its broker never came up.) | A failed connect is forgotten and tried again; \`late-kafka.test.ts\` (Kafka answering 3 s after \`run()\`) fails without it. The harness restarts instances whose drain stalls for a minute and counts it (\`drainStalls\`, must be 0). |
| 2026-11-30 | \`--rabbitmq\`, full profile: each resumed zombie's transaction had outlived its timeout; the engine opened its producer again at once, from a channel the broker had already closed (the process had not read the closed socket yet), and so fenced the consumer that had taken the queue over. No duplicate (every commit is fenced, or comes after the window was read back), but a needless handover each time. | Before taking the producer, a round trip on the channel; \`queue-recovery.test.ts\` ("a resumed zombie") fails without it. The runs above are on the code with it. |
| 2026-11-30 | 3 nodes, CI size, kafkajs, seed 20261130, twice in CI (12 local runs passed): 263, then 442 inputs *missing* after the group had caught up, no duplicates. The second failure carried the new diagnosis: inputs 254–695 of partition 0, one contiguous range, their outputs aborted in the log, none committed unread. KafkaJS queues a fetched batch before handing it over; a seek drops the fetches answered while it is pending, but once the next fetch has taken the seek, a batch fetched *before* it (from past the failed batch) is still handed over, and the engine committed it, and its offset, over the rewound records. | A batch whose fetch began past the partition's position is dropped and fetched again (KafkaJS keeps the fetch's start on the batch); a rewind with nothing committed yet sets the position. The fake consumer can deliver such a stale fetch: \`recovery.test.ts\` (\`a fetch made before a rewind\`) loses 500 of 1,200 without the check. |
| 2026-12-01 | 3 nodes, CI size, platformatic, seed 20261130, once in CI: after one node kill the group did not commit again within 90 s (the profile asks 30 s); exactly-once held (0 missing, 0 duplicated), and the logs were gone with the CI machine. 18 local runs of the profile (seeds 20261130, 20261137 and 20261140–20261155, 11 of them beside one or two CPU hogs) recovered in 0.3–14.4 s, and it passed again in the next fresh-clone CI. A reading of the group's progress right after a kill takes 5–6 s here, and the checker's KafkaJS admin retries could hold one for over a minute, so the checker itself is a suspect as much as the processors. | Not found yet. The watch now cuts a reading off after 10 s and, without a recovery, records the progress before the kill, its last reading and its failed readings; each kill records its time; the test's message carries that and the instances' last warnings and errors. Found on the way and fixed: the platformatic consumer, started again after a failed join, listened to its group once per attempt. |
| 2026-11-25 | A red CI run (a read_committed reader read 97 of 198 records after the group caught up) led to the readers. Both Node clients' read_committed filters let records of aborted transactions through when transactions of several producers interleave: 1 of 5 with KafkaJS 2.2.4, 3 of 5 with @platformatic/kafka 2.12.1. That blinds the checker, and a processor reading a transactional topic (a chained pipeline) would process aborted records. The reader also stopped at the last stable offset, short of a committed transaction whose markers were not yet written. | \`packages/read-committed\` applies Kafka's rule (as the Java consumer does) in both adapters and in testkit's readers, which now read to the log end; \`engine.test.ts\` ("an input written in transactions") and \`transactions.test.ts\` fail without it. The full platformatic run above is the first with it. |

## Profiles

| profile | command | where |
|---|---|---|
| CI | \`pnpm chaos --records 16000 --kills 6 --zombies 2 --broker-kills 2 --restarts 1\` | every \`pnpm test\` (packages/cli/test/chaos.test.ts) |
| CI, platformatic | the same with \`--client platformatic --workers 2\`: kills take turns at one worker and at a whole instance, a zombie is one worker paused | every \`pnpm test\` on Node ≥ 22.22 (CI runs Node 24) |
| CI, 3 nodes | \`pnpm chaos --records 12000 --kills 3 --zombies 1 --broker-kills 3 --restarts 1 --nodes 3 [--client platformatic]\`: each kill must be followed by a commit within 30 s | every \`pnpm test\`, both clients |
| CI, PostgreSQL | \`pnpm chaos --postgres --records 6000 --kills 3 --zombies 1 --broker-kills 1 --restarts 0 --phase-kills 2 --postgres-crashes 1 [--client platformatic]\`: each input a record and a row (two-phase commit) | every \`pnpm test\`, both clients |
| CI, stateful | \`pnpm chaos --stateful --accounts 1000 --records 8000 --kills 3 --zombies 1 --broker-kills 2 --restarts 1 [--client platformatic --local-state]\`: every running total right | every \`pnpm test\`, both clients |
| CI, RabbitMQ | \`pnpm chaos --rabbitmq --records 2000 --kills 2 --zombies 0 --broker-kills 0 --rabbitmq-kills 1 --phase-kills 0\`: a queue into Kafka and an exchange (docs/rabbitmq.md) | every \`pnpm test\`, default client |
| full, RabbitMQ | \`pnpm chaos --rabbitmq --records 200000 --kills 50 --zombies 5 --rabbitmq-kills 5 --broker-kills 3 --seed 1 [--client platformatic]\` | run by hand; results in the RabbitMQ section above |
| full, PostgreSQL | \`pnpm chaos --postgres --records 1000000 --kills 100 --zombies 10 --broker-kills 5 --restarts 2 --phase-kills 45 --postgres-crashes 6 [--client platformatic] --write-docs docs/reliability.md\` | run by hand |
| full | \`pnpm chaos --records 1000000 --kills 100 --zombies 10 --broker-kills 10 --restarts 5 [--client platformatic] [--nodes 3] --write-docs docs/reliability.md\` | run by hand; its result replaces its column above (kept in \`docs/reliability-runs.json\`) |
`;
}
