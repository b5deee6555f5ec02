/** A node of a local KRaft cluster: its id and its controller port (every node is broker and controller). */
export interface Voter {
  readonly nodeId: number;
  readonly controllerPort: number;
}

/**
 * The settings of a local KRaft node for tests and demos, fast to recover. On one node every internal topic has
 * one replica; on a cluster of n nodes internal and created topics get min(n, 3) replicas and need 2 in sync,
 * as a production cluster would, so that a node can die without losing a committed record.
 */
export function serverProperties(options: {
  nodeId: number;
  port: number;
  controllerPort: number;
  /** Every node of the cluster, this one included. */
  voters: readonly Voter[];
  logDir: string;
  extra?: Readonly<Record<string, string>> | undefined;
}): string {
  const replicas = String(Math.min(options.voters.length, 3));
  const inSync = options.voters.length > 1 ? '2' : '1';
  const settings: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': String(options.nodeId),
    'controller.quorum.voters': options.voters.map((v) => `${v.nodeId}@127.0.0.1:${v.controllerPort}`).join(','),
    listeners: `PLAINTEXT://127.0.0.1:${options.port},CONTROLLER://127.0.0.1:${options.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${options.port}`,
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': options.logDir,
    'num.partitions': '1',
    'default.replication.factor': replicas,
    'min.insync.replicas': inSync,
    'offsets.topic.replication.factor': replicas,
    'offsets.topic.num.partitions': '4',
    'transaction.state.log.replication.factor': replicas,
    'transaction.state.log.min.isr': inSync,
    'transaction.state.log.num.partitions': '4',
    'share.coordinator.state.topic.replication.factor': replicas,
    'share.coordinator.state.topic.min.isr': inSync,
    'group.initial.rebalance.delay.ms': '0',
    // A cluster notices a dead node after 3 s rather than Kafka's 9, and moves its leaderships (and the
    // coordinators it held) to the others; a chaos kill keeps a node down longer than that.
    ...(options.voters.length > 1
      ? { 'broker.session.timeout.ms': '3000', 'broker.heartbeat.interval.ms': '500' }
      : {}),
    // Topics are created on purpose (exactly run --create-topics, the tests), as on most production clusters.
    'auto.create.topics.enable': 'false',
    // A killed producer's open transaction is aborted soon after its timeout, not up to a minute later.
    'transaction.abort.timed.out.transaction.cleanup.interval.ms': '5000',
    ...options.extra,
  };
  return `${Object.entries(settings)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n')}\n`;
}

export function log4jProperties(logFile: string): string {
  return [
    'status = error',
    'appender.file.type = File',
    'appender.file.name = file',
    `appender.file.fileName = ${logFile}`,
    'appender.file.layout.type = PatternLayout',
    'appender.file.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = info',
    'rootLogger.appenderRef.file.ref = file',
    'logger.kafka.name = kafka',
    'logger.kafka.level = info',
    '',
  ].join('\n');
}
