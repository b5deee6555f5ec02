// The versions docs/benchmarks.md states next to the command.
import { createRequire } from 'node:module';
import { KAFKA_VERSION } from '@exactly/testkit';
import { runTool } from './exec.js';
import { kafkaStreamsVersion } from './kafka-streams-peer.js';

export async function versions(): Promise<string> {
  const kafkajs = (createRequire(import.meta.url)('kafkajs/package.json') as { version: string }).version;
  // `java --version` prints e.g. "openjdk 17.0.15 2025-04-15" on its first line.
  const java = await runTool('java', ['--version'])
    .then((out) => out.split('\n')[0]?.trim() ?? 'unknown')
    .catch(() => 'not found');
  return `Kafka ${KAFKA_VERSION} (broker and tools), Kafka Streams ${kafkaStreamsVersion()}, KafkaJS ${kafkajs}, Java: ${java}, Node ${process.version}`;
}
