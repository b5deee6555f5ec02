// The broker's ceiling on this machine: Apache Kafka's own ProducerPerformance and ConsumerPerformance, from
// the kafka-tools jar that runs the broker, on the same broker, record size and partition count.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool } from './exec.js';
import { createTopics, deleteTopics, uniqueName } from './topics.js';

export interface CeilingMeasurement {
  /** ProducerPerformance: 1 KB records, acks=all, no throttle, into a new topic (at least 500k records). */
  readonly producerRecordsPerSecond: number;
  /** ConsumerPerformance (read_committed) over the contenders' own input topic, fetch time only. */
  readonly consumerRecordsPerSecond: number;
  /** The lower of the two: a consume-and-produce pipeline cannot go faster than either half alone. */
  readonly recordsPerSecond: number;
}

/** ProducerPerformance writes at least this many records: fewer, and the JVM's warm-up dominates the rate. */
const MIN_PRODUCER_RECORDS = 500_000;

export async function measureCeiling(
  brokers: string,
  kafkaLibs: string,
  input: string,
  records: number,
  partitions: number,
): Promise<CeilingMeasurement> {
  const producerRecords = Math.max(records, MIN_PRODUCER_RECORDS);
  const producerRecordsPerSecond = await producerPerformance(brokers, kafkaLibs, producerRecords, partitions);
  const consumerRecordsPerSecond = await consumerPerformance(brokers, kafkaLibs, input, records);
  return {
    producerRecordsPerSecond,
    consumerRecordsPerSecond,
    recordsPerSecond: Math.min(producerRecordsPerSecond, consumerRecordsPerSecond),
  };
}

const tool = (kafkaLibs: string, main: string, args: readonly string[]) =>
  runTool('java', ['-cp', `${kafkaLibs}/*`, `org.apache.kafka.tools.${main}`, ...args]);

async function producerPerformance(brokers: string, libs: string, records: number, partitions: number) {
  const topic = uniqueName('ceiling');
  await createTopics(brokers, [topic], partitions);
  try {
    // biome-ignore format: one flag and its value per pair, on few lines
    const out = await tool(libs, 'ProducerPerformance', [
      '--topic', topic, '--num-records', String(records), '--record-size', '1024', '--throughput', '-1',
      '--producer-props', `bootstrap.servers=${brokers}`, 'acks=all',
    ]);
    // The last line sums it up: "600000 records sent, 98765.4 records/sec (96.45 MB/sec), ..."
    const summary = /(\d+) records sent, ([\d.]+) records\/sec/.exec(out.trim().split('\n').at(-1) ?? '');
    if (!summary) throw new Error(`ProducerPerformance printed no summary:\n${out.slice(-1000)}`);
    return Math.round(Number(summary[2]));
  } finally {
    await deleteTopics(brokers, [topic]).catch(() => undefined);
  }
}

async function consumerPerformance(brokers: string, libs: string, input: string, records: number) {
  const dir = await mkdtemp(join(tmpdir(), 'bench-ceiling-'));
  try {
    const config = join(dir, 'consumer.properties');
    await writeFile(config, 'isolation.level=read_committed\n');
    // biome-ignore format: one flag and its value per pair, on few lines
    const out = await tool(libs, 'ConsumerPerformance', [
      '--bootstrap-server', brokers, '--topic', input, '--messages', String(records),
      '--group', uniqueName('ceiling'), '--consumer.config', config, '--timeout', '60000',
    ]);
    // A CSV header line, then one line of values; fetch.nMsg.sec leaves the group join out.
    const lines = out.trim().split('\n');
    const header = (lines.findLast((line) => line.includes('nMsg.sec')) ?? '').split(',').map((s) => s.trim());
    const values = (lines.at(-1) ?? '').split(',').map((s) => s.trim());
    const rate = Number(values[header.indexOf('fetch.nMsg.sec')]);
    const consumed = Number(values[header.indexOf('data.consumed.in.nMsg')]);
    if (!Number.isFinite(rate) || consumed < records)
      throw new Error(`ConsumerPerformance read ${consumed} of ${records} records:\n${out.slice(-1000)}`);
    return Math.round(rate);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
