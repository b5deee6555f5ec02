import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExactlyConfigError } from '@exactly/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readClientProperties } from '../src/config/client-properties.js';
import { parseProperties } from '../src/config/properties-file.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'exactly-properties-'));
  await writeFile(join(dir, 'ca.pem'), 'CA PEM');
  await writeFile(join(dir, 'client.p12'), 'PKCS12');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function read(text: string, env: NodeJS.ProcessEnv = {}) {
  const file = join(dir, `client-${Math.random()}.properties`);
  await writeFile(file, text);
  return readClientProperties(file, env);
}

const CONFLUENT_CLOUD = `# Required connection configs for Kafka producer, consumer, and admin
bootstrap.servers=pkc-xxxxx.europe-west1.gcp.confluent.cloud:9092
security.protocol=SASL_SSL
sasl.mechanisms=PLAIN
sasl.username=KEY123
sasl.password=SECRET456
# Best practice for higher availability in librdkafka clients prior to 1.7
session.timeout.ms=45000
client.id=ccloud-nodejs-client
`;

describe('Java properties files', () => {
  test('separators, comments, continuations and escapes', () => {
    const parsed = parseProperties('# c\n! c\na=1\nb : 2\nc 3\nlong=one \\\n    two\nesc=x\\=y\\u0041\\n\nempty=\n');
    expect(Object.fromEntries(parsed)).toEqual({ a: '1', b: '2', c: '3', long: 'one two', esc: 'x=yA\n', empty: '' });
  });
});

describe('client.properties', () => {
  test("Confluent Cloud's file (librdkafka names): SASL_SSL with the system's CAs, PLAIN", async () => {
    const read1 = await read(CONFLUENT_CLOUD);
    expect(read1.brokers).toBe('pkc-xxxxx.europe-west1.gcp.confluent.cloud:9092');
    expect(read1.security).toEqual({
      ssl: true,
      sasl: { mechanism: 'plain', username: 'KEY123', password: 'SECRET456' },
    });
    expect(read1.ignored).toEqual(['session.timeout.ms', 'client.id']);
  });

  test('the Java client: SCRAM in sasl.jaas.config, a PEM truststore, a PKCS12 keystore, the password from the environment', async () => {
    const read1 = await read(
      [
        'bootstrap.servers=b-1.msk:9096,b-2.msk:9096',
        'security.protocol=SASL_SSL',
        'sasl.mechanism=SCRAM-SHA-512',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Kafka's ${env:NAME} reference, not a template
        'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="${env:KAFKA_PASSWORD}";',
        'ssl.truststore.type=PEM',
        'ssl.truststore.location=ca.pem',
        'ssl.keystore.type=PKCS12',
        'ssl.keystore.location=client.p12',
        'ssl.keystore.password=store-secret',
        'ssl.endpoint.identification.algorithm=',
      ].join('\n'),
      { KAFKA_PASSWORD: 'from-env' },
    );
    expect(read1.security.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'alice', password: 'from-env' });
    expect(read1.security.ssl).toEqual({
      ca: Buffer.from('CA PEM'),
      pfx: Buffer.from('PKCS12'),
      passphrase: 'store-secret',
      checkServerName: false,
    });
  });

  test('mistakes are errors that name the property and never show a secret', async () => {
    const cases: Array<[string, RegExp]> = [
      ['security.protocol=SASL_SSL\nsasl.mechanism=GSSAPI', /GSSAPI \(Kerberos\) is not supported/],
      ['security.protocol=SASL_SSL', /needs sasl.mechanism/],
      ['security.protocol=SASL_SSL\nsasl.mechanism=OAUTHBEARER', /oauthBearerProvider/],
      ['security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\nsasl.username=u', /needs a username and a password/],
      ['security.protocol=TLS', /security.protocol: must be one of/],
      [
        'security.protocol=SSL\nssl.truststore.location=trust.jks',
        /JKS truststore cannot be read by Node.js: export its CA as PEM/,
      ],
      ['security.protocol=SSL\nssl.ca.location=missing.pem', /ssl.ca.location: cannot read missing.pem: ENOENT/],
      [
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Kafka's ${env:NAME} reference, not a template
        'security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\nsasl.username=u\nsasl.password=${env:NOT_SET_HERE}',
        /environment variable NOT_SET_HERE, which is not set/,
      ],
    ];
    for (const [text, message] of cases) {
      const error = await read(`${text}\nsasl.password.unused=TOP-SECRET\n`).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error, text).toBeInstanceOf(ExactlyConfigError);
      expect(error?.message, text).toMatch(message);
      expect(error?.message).not.toContain('TOP-SECRET');
    }
  });

  test("a PKCS12 keystore opens with the store's password; librdkafka's ssl.endpoint.identification.algorithm=none", async () => {
    const read1 = await read(
      [
        'security.protocol=SSL',
        'ssl.keystore.location=client.p12',
        'ssl.keystore.password=store-secret',
        'ssl.key.password=key-secret',
        'ssl.endpoint.identification.algorithm=none',
      ].join('\n'),
    );
    expect(read1.security.ssl).toMatchObject({ passphrase: 'store-secret', checkServerName: false });
  });

  test('mutual TLS with a certificate and no key says which is missing', async () => {
    const error = await read('security.protocol=SSL\nssl.certificate.location=ca.pem').then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(
      /^ssl.key.location: mutual TLS needs both ssl.certificate.location and ssl.key.location/,
    );
  });

  test('PLAINTEXT by default: no TLS, no SASL', async () => {
    expect((await read('bootstrap.servers=localhost:9092\n')).security).toEqual({});
  });
});
