import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { kafkajs } from '@exactly/read-committed';
import { run } from '@exactly/runtime';
import { ensureKafkaJars, verifyExactlyOnce, waitForGroupCaughtUp } from '@exactly/testkit';
import { beforeAll, describe, expect, inject, test } from 'vitest';
import { fanOut } from './fixtures/fan-out.js';
import { CLIENTS, freshTopics } from './helpers.js';

/**
 * Inputs in every codec, written by producers no one here wrote (librdkafka through kcat; the Java client through
 * Kafka's console producer, which frames snappy the xerial way), are processed exactly once by both clients; and
 * both write their outputs in every codec, which the verifier's reader (KafkaJS with Exactly's codecs) reads back.
 */
const brokers = inject('kafkaBrokers');
const exec = promisify(execFile);
const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;
const PER_CODEC = 50;

type Writer = (topic: string, codec: (typeof CODECS)[number], lines: string[]) => Promise<void>;

/** librdkafka 2 (Debian's kcat): `key|value` lines, the batch compressed with `codec`. */
const kcat: Writer = (topic, codec, lines) =>
  pipe('kcat', ['-P', '-b', brokers, '-t', topic, '-z', codec, '-K', '|', '-X', 'linger.ms=50'], lines);

/** Apache Kafka's own Java producer (the console producer of the broker's jars). */
const javaProducer: Writer = async (topic, codec, lines) => {
  const libs = await ensureKafkaJars();
  await pipe(
    'java',
    [
      '-cp',
      `${libs}/*`,
      'org.apache.kafka.tools.ConsoleProducer',
      '--bootstrap-server',
      brokers,
      '--topic',
      topic,
      '--compression-codec',
      codec,
      '--property',
      'parse.key=true',
      '--property',
      'key.separator=|',
    ],
    lines,
  );
};

function pipe(command: string, args: string[], lines: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}: ${stderr}`))));
    child.stdin.end(`${lines.join('\n')}\n`);
  });
}

beforeAll(async () => {
  // Fails here, saying so, on a machine without kcat (.ci/run installs it).
  await exec('kcat', ['-V']);
});

describe.each([
  { producer: 'kcat (librdkafka)', write: kcat, outputs: ['gzip', 'snappy'] as const },
  { producer: "Kafka's Java producer", write: javaProducer, outputs: ['lz4', 'zstd'] as const },
])('inputs in every codec from $producer', ({ producer, write, outputs }) => {
  test.each(CLIENTS.map((client, i) => ({ client, output: outputs[i] ?? 'lz4' })))(
    'are processed exactly once by $client (outputs in $output)',
    async ({ client, output }) => {
      const topics = await freshTopics(brokers, `codecs-${producer.slice(0, 4)}-${client}`, 2);
      for (const [index, codec] of CODECS.entries()) {
        const ids = Array.from({ length: PER_CODEC }, (_, i) => index * PER_CODEC + i);
        await write(
          topics.input,
          codec,
          ids.map((id) => `key-${id}|${JSON.stringify({ id, pad: 'x'.repeat(200) })}`),
        );
      }
      const app = await run(fanOut(topics), {
        brokers,
        client,
        compression: output,
        logLevel: 'silent',
        provenance: true,
      });
      try {
        await waitForGroupCaughtUp(brokers, topics.id, topics.input);
      } finally {
        await app.stop();
      }
      expect((await app.metrics()).deadLetters, 'no input became a dead letter').toBe(0);
      const verdict = await verifyExactlyOnce({ brokers, input: topics.input, outputs: [topics.left, topics.right] });
      expect(verdict.ok, JSON.stringify(verdict)).toBe(true);
      expect(verdict.inputs).toBe(CODECS.length * PER_CODEC);
    },
  );
});

describe('an input a client cannot read', () => {
  test('stops the processor with an error naming the codec and the topic, instead of fetching it forever', async () => {
    const topics = await freshTopics(brokers, 'codecs-unreadable', 1);
    // Records that compress well: librdkafka sends a batch uncompressed when compressing would not make it smaller.
    const lines = Array.from({ length: 20 }, (_, id) => `key-${id}|${JSON.stringify({ id, pad: 'x'.repeat(500) })}`);
    await kcat(topics.input, 'lz4', lines);
    // KafkaJS's LZ4 as it comes, which throws (Exactly's copy has a codec; swapped for this test and put back).
    const table = kafkajs.CompressionCodecs as unknown as Record<number, unknown>;
    const lz4 = table[kafkajs.CompressionTypes.LZ4];
    table[kafkajs.CompressionTypes.LZ4] = () => {
      throw Object.assign(new Error('LZ4 compression not implemented'), { name: 'KafkaJSNotImplemented' });
    };
    try {
      const app = await run(fanOut(topics), { brokers, client: 'kafkajs', compression: 'gzip', logLevel: 'silent' });
      const error = await app.done.then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).toMatch(/LZ4 compression not implemented/);
      expect(error?.message).toContain(`reading ${topics.input}`);
    } finally {
      table[kafkajs.CompressionTypes.LZ4] = lz4;
    }
  });
});
