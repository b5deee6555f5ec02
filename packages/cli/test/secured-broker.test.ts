import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { run } from '@exactly/runtime';
import {
  generateRecords,
  grantAcls,
  type Kafka,
  processorAcls,
  type SecuredKafka,
  startKafka,
  testClient,
  unsecuredToken,
  verifyExactlyOnce,
  waitForGroupCaughtUp,
  waitUntil,
} from '@exactly/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fanOut } from '../../runtime/test/fixtures/fan-out.js';
import { CLIENTS, freshTopics } from '../../runtime/test/helpers.js';

/**
 * A processor on a cluster with TLS, SASL (SCRAM-SHA-512) and ACLs, on both clients: with exactly the ACLs that
 * docs/operations.md lists it runs exactly once; each misconfiguration stops it at start with a message that
 * says what is wrong; and the password never shows in anything it prints.
 */
const exec = promisify(execFile);
const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const copier = fileURLToPath(new URL('../chaos/copier.ts', import.meta.url));

let kafka: Kafka;
let secure: SecuredKafka;
let scratch: string;

beforeAll(async () => {
  kafka = await startKafka({ secure: true });
  secure = kafka.secure as SecuredKafka;
  scratch = await mkdtemp(join(tmpdir(), 'exactly-secured-'));
}, 120_000);

afterAll(async () => {
  await kafka?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const quiet = { logLevel: 'silent' as const, startupTimeoutMs: 30_000 };

/** Topics made by the admin, and the processor's ACLs for the application user (all of them, or some). */
async function setUp(name: string, drop: (acl: { resource: string }) => boolean = () => false) {
  const topics = await freshTopics(secure.admin, name, 2);
  const acls = processorAcls({ processorId: topics.id, input: topics.input, outputs: [topics.left, topics.right] });
  await grantAcls(
    secure.admin,
    'User:app',
    acls.filter((acl) => !drop(acl)),
  );
  // The broker applies new ACLs a moment after accepting them: wait until the user sees its input.
  await waitUntil(() => appSees(topics.input), 'the ACLs in force', 10_000);
  return topics;
}

describe.each(CLIENTS)('over SASL_SSL with ACLs (%s)', (client) => {
  /** `count` records through a processor connected as `connection`, checked by the admin's verifier. */
  async function exactlyOnceAs(name: string, connection: typeof secure.app, count: number): Promise<void> {
    const topics = await setUp(`${name}-${client}`);
    await generateRecords({ brokers: secure.admin, topic: topics.input, count });
    const app = await run(fanOut(topics), { ...connection, ...quiet, client, provenance: true });
    try {
      await waitForGroupCaughtUp(secure.admin, topics.id, topics.input);
    } finally {
      await app.stop();
    }
    const verdict = await verifyExactlyOnce({
      ...secure.admin,
      input: topics.input,
      outputs: [topics.left, topics.right],
    });
    expect(verdict.ok, JSON.stringify(verdict)).toBe(true);
    expect(verdict.inputs).toBe(count);
  }

  test('with the ACLs docs/operations.md lists, every record is processed exactly once', async () => {
    await exactlyOnceAs('secured', secure.app, 500);
  });

  test("with mutual TLS (a client certificate, no SASL), it runs as the certificate's CN", async () => {
    await exactlyOnceAs('mtls', secure.appByCertificate, 100);
  });

  test("with an OAUTHBEARER token provider in code, it runs as the token's subject", async () => {
    const topics = await setUp(`oauth-${client}`);
    await generateRecords({ brokers: secure.admin, topic: topics.input, count: 100 });
    let asked = 0;
    const sasl = {
      mechanism: 'oauthbearer' as const,
      oauthBearerProvider: async () => {
        asked += 1;
        return { value: unsecuredToken('app') };
      },
    };
    const app = await run(fanOut(topics), { brokers: secure.app.brokers, ssl: secure.app.ssl, sasl, ...quiet, client });
    try {
      await waitForGroupCaughtUp(secure.admin, topics.id, topics.input);
    } finally {
      await app.stop();
    }
    expect(asked).toBeGreaterThan(0);
    expect((await app.metrics()).recordsIn).toBe(100);
  });

  test('without the transactional-id ACL, start-up stops with an error naming it', async () => {
    const topics = await setUp(`no-txid-${client}`, (acl) => acl.resource === 'transactional-id');
    await generateRecords({ brokers: secure.admin, topic: topics.input, count: 10 });
    // KafkaJS opens its producers when partitions are assigned, after run() resolves: then the processor stops.
    const error = await run(fanOut(topics), { ...secure.app, ...quiet, client }).then(
      (app) =>
        app.done.then(
          () => undefined,
          (e: Error) => e,
        ),
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/TRANSACTIONAL_ID_AUTHORIZATION_FAILED/);
    expect(error?.message).toMatch(/Write and Describe on TransactionalId/);
  });

  test('with a wrong password, start-up stops within 10 s saying authentication failed', async () => {
    const topics = await setUp(`bad-password-${client}`);
    const started = Date.now();
    const wrong = { ...secure.app, sasl: { mechanism: 'scram-sha-512' as const, username: 'app', password: 'wrong' } };
    const error = await run(fanOut(topics), { ...wrong, ...quiet, client }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(error?.message).toMatch(/SASL authentication failed/);
  });

  test('with a CA that did not sign the broker certificate, it says the certificate could not be verified', async () => {
    const topics = await setUp(`bad-ca-${client}`);
    const error = await run(fanOut(topics), {
      ...secure.app,
      ssl: { ca: await otherAuthority() },
      ...quiet,
      client,
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/certificate could not be verified/);
  });
});

describe('exactly run --config client.properties', () => {
  test('runs over SASL_SSL, and the password appears nowhere in its output, even when it fails', async () => {
    const topics = await setUp('secured-cli');
    await generateRecords({ brokers: secure.admin, topic: topics.input, count: 200 });
    // The application's file with the password moved into the environment, as docs/operations.md advises.
    const password = secure.app.sasl && 'password' in secure.app.sasl ? secure.app.sasl.password : '';
    expect(password.length).toBeGreaterThan(10);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Kafka's ${env:NAME} reference, not a template
    const properties = (await readFile(secure.appProperties, 'utf8')).replace(password, '${env:KAFKA_PASSWORD}');
    const config = join(scratch, 'client.properties');
    await writeFile(config, `${properties}client.dns.lookup=use_all_dns_ips\n`);
    const env = {
      ...process.env,
      KAFKA_BROKERS: '',
      KAFKA_PASSWORD: password,
      CHAOS_GROUP: topics.id,
      CHAOS_INPUT: topics.input,
      CHAOS_LEFT: topics.left,
      CHAOS_RIGHT: topics.right,
    };
    const child = spawn(process.execPath, [bin, 'run', copier, '--config', config, '--log-level', 'debug'], { env });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitForGroupCaughtUp(secure.admin, topics.id, topics.input, 60_000);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(output).toContain('not used by Exactly: client.dns.lookup');
    expect(output).toContain('SASL_SSL scram-sha-512 as app');

    const failed = await exec(process.execPath, [bin, 'run', copier, '--config', config, '--log-level', 'debug'], {
      env: { ...env, KAFKA_PASSWORD: `${password}-wrong` },
    }).then(
      () => undefined,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toMatch(/SASL authentication failed/);
    for (const text of [output, failed?.stdout ?? '', failed?.stderr ?? '']) expect(text).not.toContain(password);
  });
});

/** Whether the application user is allowed to see `topic` yet. */
async function appSees(topic: string): Promise<boolean> {
  const admin = testClient(secure.app).admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).includes(topic);
  } finally {
    await admin.disconnect();
  }
}

/** The PEM of a certificate authority that signed nothing here. */
async function otherAuthority(): Promise<string> {
  const dir = await mkdtemp(join(scratch, 'ca-'));
  await exec('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    join(dir, 'key.pem'),
    '-out',
    join(dir, 'ca.pem'),
    '-days',
    '1',
    '-subj',
    '/CN=Another CA',
  ]);
  return readFile(join(dir, 'ca.pem'), 'utf8');
}
