import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ExactlyConfigError, type KafkaSecurity, type SaslOptions, type TlsOptions } from '@exactly/core';
import { parseProperties } from './properties-file.js';

/**
 * A Kafka client's `client.properties`, as Confluent Cloud and most platforms hand it out, read into Exactly's
 * connection options. The Java client's names, and librdkafka's where Java has none (`ssl.ca.location`,
 * `sasl.username`). A value may be `${env:NAME}` (Kafka's EnvVarConfigProvider syntax), to keep secrets out of
 * the file. Errors name the property and never show a value.
 */
export interface ClientProperties {
  /** `bootstrap.servers`, when the file gives it. */
  readonly brokers: string | undefined;
  readonly security: KafkaSecurity;
  /** Properties read and not used (client tuning, schema registry settings): names only. */
  readonly ignored: readonly string[];
}

/** What this reader understands; everything else is reported as ignored. */
const KNOWN = new Set([
  'bootstrap.servers',
  'security.protocol',
  'sasl.mechanism',
  'sasl.mechanisms',
  'sasl.jaas.config',
  'sasl.username',
  'sasl.password',
  'ssl.ca.location',
  'ssl.ca.pem',
  'ssl.truststore.location',
  'ssl.truststore.type',
  'ssl.truststore.password',
  'ssl.truststore.certificates',
  'ssl.keystore.location',
  'ssl.keystore.type',
  'ssl.keystore.password',
  'ssl.keystore.key',
  'ssl.keystore.certificate.chain',
  'ssl.key.password',
  'ssl.certificate.location',
  'ssl.key.location',
  'ssl.endpoint.identification.algorithm',
  'enable.ssl.certificate.verification',
  'config.providers',
  'config.providers.env.class',
]);

const PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;

export function readClientProperties(file: string, env: NodeJS.ProcessEnv = process.env): ClientProperties {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ExactlyConfigError('--config', `cannot read ${file}: ${(error as Error).message}`);
  }
  return clientPropertiesOf(parseProperties(text), { env, dir: dirname(resolve(file)) });
}

export function clientPropertiesOf(
  raw: ReadonlyMap<string, string>,
  context: { readonly env: NodeJS.ProcessEnv; readonly dir: string },
): ClientProperties {
  const get = (name: string): string | undefined => {
    const value = raw.get(name);
    return value === undefined ? undefined : withEnv(name, value, context.env).trim();
  };
  const protocol = (get('security.protocol') ?? 'PLAINTEXT').toUpperCase();
  if (!PROTOCOLS.includes(protocol as (typeof PROTOCOLS)[number])) {
    throw new ExactlyConfigError('security.protocol', `must be one of ${PROTOCOLS.join(', ')} (got ${protocol})`);
  }
  const tls = protocol === 'SSL' || protocol === 'SASL_SSL';
  const sasl = protocol.startsWith('SASL_') ? saslOf(get) : undefined;
  const ssl = tls ? tlsOf(get, context.dir) : undefined;
  return {
    brokers: get('bootstrap.servers'),
    security: { ...(ssl === undefined ? {} : { ssl }), ...(sasl === undefined ? {} : { sasl }) },
    ignored: [...raw.keys()].filter((name) => !KNOWN.has(name)),
  };
}

/** `${env:NAME}` anywhere in a value is the environment variable's value; an unset one is an error. */
function withEnv(name: string, value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, variable: string) => {
    const found = env[variable];
    if (found === undefined) {
      throw new ExactlyConfigError(name, `refers to the environment variable ${variable}, which is not set`);
    }
    return found;
  });
}

type Getter = (name: string) => string | undefined;

function saslOf(get: Getter): SaslOptions {
  const mechanism = (get('sasl.mechanism') ?? get('sasl.mechanisms'))?.toUpperCase();
  if (mechanism === undefined || mechanism === 'GSSAPI') {
    throw new ExactlyConfigError(
      'sasl.mechanism',
      mechanism === 'GSSAPI'
        ? 'GSSAPI (Kerberos) is not supported; use PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER'
        : 'a SASL security.protocol needs sasl.mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512',
    );
  }
  if (mechanism === 'OAUTHBEARER') {
    throw new ExactlyConfigError(
      'sasl.mechanism',
      'OAUTHBEARER needs a token provider, which a properties file cannot give: run the processor from code with ' +
        "run(processor, { sasl: { mechanism: 'oauthbearer', oauthBearerProvider } })",
    );
  }
  const names = { PLAIN: 'plain', 'SCRAM-SHA-256': 'scram-sha-256', 'SCRAM-SHA-512': 'scram-sha-512' } as const;
  const ours = names[mechanism as keyof typeof names];
  if (ours === undefined) {
    throw new ExactlyConfigError(
      'sasl.mechanism',
      `unknown mechanism ${mechanism}: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512`,
    );
  }
  const jaas = get('sasl.jaas.config');
  const options = jaas === undefined ? undefined : jaasOptions(jaas);
  const username = options?.get('username') ?? get('sasl.username');
  const password = options?.get('password') ?? get('sasl.password');
  if (!username || !password) {
    throw new ExactlyConfigError(
      'sasl.jaas.config',
      `${mechanism} needs a username and a password: sasl.jaas.config with username="..." password="..." ` +
        '(or sasl.username and sasl.password)',
    );
  }
  return { mechanism: ours, username, password };
}

/** The options of a JAAS line: `<LoginModule> required key="value" key2=value2;` */
function jaasOptions(jaas: string): Map<string, string> {
  const options = new Map<string, string>();
  const body = jaas.replace(/^\s*\S+\s+(required|requisite|sufficient|optional)\b/, '').replace(/;\s*$/, '');
  for (const match of body.matchAll(/([A-Za-z_.]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;]+))/g)) {
    options.set(match[1] ?? '', match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : (match[3] ?? ''));
  }
  return options;
}

function tlsOf(get: Getter, dir: string): TlsOptions | true {
  const read = (name: string, path: string): Buffer => {
    try {
      return readFileSync(resolve(dir, path));
    } catch (error) {
      throw new ExactlyConfigError(name, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  };
  const tls: { -readonly [K in keyof TlsOptions]: TlsOptions[K] } = {};
  // Trusted authorities.
  const truststore = get('ssl.truststore.location');
  const truststoreType = (get('ssl.truststore.type') ?? (truststore?.endsWith('.pem') ? 'PEM' : 'JKS')).toUpperCase();
  if (get('ssl.ca.location')) tls.ca = read('ssl.ca.location', get('ssl.ca.location') ?? '');
  else if (get('ssl.ca.pem')) tls.ca = get('ssl.ca.pem');
  else if (get('ssl.truststore.certificates')) tls.ca = get('ssl.truststore.certificates');
  else if (truststore) {
    if (truststoreType !== 'PEM') {
      throw new ExactlyConfigError(
        'ssl.truststore.location',
        `a ${truststoreType} truststore cannot be read by Node.js: export its CA as PEM ` +
          '(keytool -exportcert -rfc -alias <ca> -keystore <truststore> -file ca.pem) and give ssl.ca.location=ca.pem',
      );
    }
    tls.ca = read('ssl.truststore.location', truststore);
  }
  // The client's own certificate (mutual TLS).
  const keystore = get('ssl.keystore.location');
  const keystoreType = (get('ssl.keystore.type') ?? (keystore?.match(/\.(p12|pfx)$/) ? 'PKCS12' : 'JKS')).toUpperCase();
  if (keystore) {
    if (keystoreType === 'PKCS12') tls.pfx = read('ssl.keystore.location', keystore);
    else if (keystoreType === 'PEM') {
      const pem = read('ssl.keystore.location', keystore);
      tls.cert = pem;
      tls.key = pem;
    } else {
      throw new ExactlyConfigError(
        'ssl.keystore.location',
        `a ${keystoreType} keystore cannot be read by Node.js: convert it to PKCS12 ` +
          '(keytool -importkeystore -srckeystore <keystore.jks> -destkeystore client.p12 -deststoretype PKCS12) ' +
          'and give ssl.keystore.type=PKCS12',
      );
    }
  } else if (get('ssl.keystore.key') || get('ssl.keystore.certificate.chain')) {
    tls.key = both('ssl.keystore.key', 'ssl.keystore.certificate.chain', get);
    tls.cert = get('ssl.keystore.certificate.chain');
  } else if (get('ssl.certificate.location') || get('ssl.key.location')) {
    const [cert, key] = [both('ssl.certificate.location', 'ssl.key.location', get), get('ssl.key.location') ?? ''];
    tls.cert = read('ssl.certificate.location', cert);
    tls.key = read('ssl.key.location', key);
  }
  // A PKCS12 bundle opens with its store's password; a PEM key with its own.
  const passphrase =
    tls.pfx !== undefined
      ? (get('ssl.keystore.password') ?? get('ssl.key.password'))
      : (get('ssl.key.password') ?? get('ssl.keystore.password'));
  if (passphrase !== undefined && (tls.key !== undefined || tls.pfx !== undefined)) tls.passphrase = passphrase;
  // Java: an empty value; librdkafka: `none`. The chain is still checked.
  const identification = get('ssl.endpoint.identification.algorithm')?.toLowerCase();
  if (identification === '' || identification === 'none') tls.checkServerName = false;
  if (get('enable.ssl.certificate.verification')?.toLowerCase() === 'false') tls.rejectUnauthorized = false;
  return Object.keys(tls).length === 0 ? true : tls;
}

/** Mutual TLS needs a certificate and its key: `first`'s value, when `second` is given too; else an error naming the missing one. */
function both(first: string, second: string, get: Getter): string {
  const a = get(first);
  const b = get(second);
  if (!a || !b) {
    throw new ExactlyConfigError(a ? second : first, `mutual TLS needs both ${first} and ${second}`);
  }
  return a;
}
