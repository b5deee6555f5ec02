import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { UsernamePasswordSasl } from '@exactly/core';
import { freePort } from './ports.js';

const exec = promisify(execFile);

/** The user every secured local broker makes a super user (it also carries the brokers' own traffic). */
export const ADMIN_USER = 'admin';
/** The application's user: no rights until ACLs give it some (docs/operations.md lists a processor's). */
export const APP_USER = 'app';

/**
 * What a secured local broker needs and gives: a certificate authority and a broker certificate (made with
 * openssl), SCRAM-SHA-512 passwords for the admin and the application user, and a client.properties for each.
 * Kept in `dir`, so a restarted broker keeps its certificates and passwords.
 */
export interface SecureSetup {
  readonly dir: string;
  /** PEM of the authority that signed the broker's certificate: what clients trust. */
  readonly caFile: string;
  /** The broker's key and certificate, PKCS#12. */
  readonly keystoreFile: string;
  readonly keystorePassword: string;
  readonly admin: UsernamePasswordSasl;
  readonly app: UsernamePasswordSasl;
  /** A second listener, TLS with client certificates (no SASL): the certificate's CN is the user. */
  readonly mtlsPort: number;
  /** The application user's client certificate (CN=app) and key, PEM, signed by the same authority. */
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** client.properties for the admin and for the application user (Java property names). */
  readonly adminProperties: string;
  readonly appProperties: string;
}

interface Secrets {
  readonly keystorePassword: string;
  readonly adminPassword: string;
  readonly appPassword: string;
  /** The port of the mutual-TLS listener, kept so that a restarted broker keeps its addresses. */
  readonly mtlsPort: number;
}

export async function prepareSecurity(dir: string): Promise<SecureSetup> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const secretsFile = join(dir, 'secrets.json');
  // What an earlier start left (a directory from an older version may lack a field: it is filled in).
  const kept = existsSync(secretsFile) ? (JSON.parse(await readFile(secretsFile, 'utf8')) as Partial<Secrets>) : {};
  const secrets: Secrets = {
    keystorePassword: kept.keystorePassword ?? secret(),
    adminPassword: kept.adminPassword ?? secret(),
    appPassword: kept.appPassword ?? secret(),
    mtlsPort: kept.mtlsPort ?? (await freePort()),
  };
  await writeFile(secretsFile, JSON.stringify(secrets), { mode: 0o600 });
  const caFile = join(dir, 'ca.pem');
  const keystoreFile = join(dir, 'broker.p12');
  if (!existsSync(keystoreFile) || !existsSync(join(dir, 'client.pem'))) {
    await makeCertificates(dir, secrets.keystorePassword);
  }
  const admin = { mechanism: 'scram-sha-512', username: ADMIN_USER, password: secrets.adminPassword } as const;
  const app = { mechanism: 'scram-sha-512', username: APP_USER, password: secrets.appPassword } as const;
  return {
    dir,
    caFile,
    keystoreFile,
    keystorePassword: secrets.keystorePassword,
    admin,
    app,
    mtlsPort: secrets.mtlsPort,
    clientCertFile: join(dir, 'client.pem'),
    clientKeyFile: join(dir, 'client.key'),
    adminProperties: join(dir, 'admin.properties'),
    appProperties: join(dir, 'client.properties'),
  };
}

/** Writes both client.properties once the broker's address is known. */
export async function writeClientProperties(setup: SecureSetup, brokers: string): Promise<void> {
  for (const [file, user] of [
    [setup.adminProperties, setup.admin],
    [setup.appProperties, setup.app],
  ] as const) {
    const text = [
      `bootstrap.servers=${brokers}`,
      'security.protocol=SASL_SSL',
      'sasl.mechanism=SCRAM-SHA-512',
      `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${user.username}" password="${user.password}";`,
      'ssl.truststore.type=PEM',
      `ssl.truststore.location=${setup.caFile}`,
      '',
    ].join('\n');
    await writeFile(file, text, { mode: 0o600 });
    await chmod(file, 0o600);
  }
}

/** The broker's settings for a SASL_SSL listener named SECURE, SCRAM-SHA-512, and the StandardAuthorizer. */
export function secureServerProperties(
  setup: SecureSetup,
  port: number,
  controllerPort: number,
): Record<string, string> {
  return {
    listeners: `SECURE://127.0.0.1:${port},MTLS://127.0.0.1:${setup.mtlsPort},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `SECURE://127.0.0.1:${port},MTLS://127.0.0.1:${setup.mtlsPort}`,
    'listener.security.protocol.map': 'SECURE:SASL_SSL,MTLS:SSL,CONTROLLER:PLAINTEXT',
    // Mutual TLS: a client certificate is required there, and its CN is the user (CN=app is User:app).
    'listener.name.mtls.ssl.client.auth': 'required',
    'ssl.principal.mapping.rules': 'RULE:^CN=([^,]+).*$/$1/,DEFAULT',
    'inter.broker.listener.name': 'SECURE',
    // OAUTHBEARER with Kafka's unsecured token validator (unsigned JWTs; for tests of a token provider only).
    'sasl.enabled.mechanisms': 'SCRAM-SHA-512,OAUTHBEARER',
    'listener.name.secure.oauthbearer.sasl.jaas.config':
      'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;',
    'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
    'listener.name.secure.scram-sha-512.sasl.jaas.config': `org.apache.kafka.common.security.scram.ScramLoginModule required username="${setup.admin.username}" password="${setup.admin.password}";`,
    'ssl.keystore.type': 'PKCS12',
    'ssl.keystore.location': setup.keystoreFile,
    'ssl.keystore.password': setup.keystorePassword,
    'ssl.key.password': setup.keystorePassword,
    // The broker's own client side (to itself, inter-broker) trusts the same authority.
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': setup.caFile,
    'ssl.client.auth': 'none',
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    // ANONYMOUS is the plaintext controller listener on loopback: KRaft's own registration requests come in
    // there and need CLUSTER_ACTION. No client can be ANONYMOUS on the SASL_SSL listener.
    'super.users': `User:${setup.admin.username};User:ANONYMOUS`,
    'allow.everyone.if.no.acl.found': 'false',
  };
}

/** StorageTool's arguments that create the SCRAM users when the broker's storage is formatted. */
export function scramUsersArguments(setup: SecureSetup): string[] {
  return [setup.admin, setup.app].flatMap((user) => [
    '--add-scram',
    `SCRAM-SHA-512=[name=${user.username},password=${user.password}]`,
  ]);
}

const secret = () => randomBytes(18).toString('base64url');

/** A CA and a broker certificate for 127.0.0.1 and localhost, signed by it; about 0.1 s with openssl. */
async function makeCertificates(dir: string, password: string): Promise<void> {
  const openssl = (args: string[]) =>
    exec('openssl', args, { cwd: dir }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT')
        throw new Error('a secured local Kafka needs openssl on the PATH (apt-get install openssl)');
      throw error;
    });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await openssl([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '825',
    '-subj',
    '/CN=Exactly local CA',
  ]);
  /** `<name>.key` and `<name>.pem`: a key and a certificate for `subject`, signed by the CA, with `extensions`. */
  const signed = async (name: string, subject: string, extensions: string) => {
    await openssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
    await writeFile(join(dir, `${name}.ext`), extensions);
    await openssl([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '825',
      '-extfile',
      `${name}.ext`,
    ]);
  };
  await signed(
    'broker',
    '/CN=localhost',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n',
  );
  // The application user's client certificate, for the mutual-TLS listener.
  await signed('client', `/CN=${APP_USER}`, 'extendedKeyUsage=clientAuth\n');
  await openssl([
    'pkcs12',
    '-export',
    '-in',
    'broker.pem',
    '-inkey',
    'broker.key',
    '-certfile',
    'ca.pem',
    '-out',
    'broker.p12',
    '-passout',
    `pass:${password}`,
    '-name',
    'broker',
  ]);
}

/**
 * An unsigned JWT for `subject`, which a secured local broker accepts on OAUTHBEARER (Kafka's unsecured
 * validator): the principal is `User:<subject>`. For tests of an `oauthBearerProvider`; never for a real cluster.
 */
export function unsecuredToken(subject: string, lifetimeMs = 3_600_000): string {
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const now = Date.now() / 1000;
  return `${encode({ alg: 'none' })}.${encode({ sub: subject, iat: now, exp: now + lifetimeMs / 1000 })}.`;
}
