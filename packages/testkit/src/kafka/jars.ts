import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { withDirLock } from './lock.js';
import { jarsDir, KAFKA_VERSION } from './paths.js';

/** The broker logs through SLF4J 1.7, so it needs the log4j2 binding for SLF4J 1.x. */
const LOG4J_VERSION = '2.24.3';

function pom(version: string, withTools: boolean): string {
  const dep = (group: string, artifact: string, v: string) =>
    `<dependency><groupId>${group}</groupId><artifactId>${artifact}</artifactId><version>${v}</version></dependency>`;
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.exactly</groupId><artifactId>kafka-classpath</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    ${dep('org.apache.kafka', 'kafka_2.13', version)}
    ${withTools ? dep('org.apache.kafka', 'kafka-tools', version) : ''}
    ${dep('org.apache.logging.log4j', 'log4j-slf4j-impl', LOG4J_VERSION)}
  </dependencies>
</project>
`;
}

/**
 * Returns a directory of jars that runs Kafka's broker (and its tools), fetching them with Maven on first
 * use. Concurrent callers (several test workers, two terminals) wait for one fetch instead of racing.
 */
export async function ensureKafkaJars(version = KAFKA_VERSION): Promise<string> {
  const libs = jarsDir(version);
  const done = join(libs, '.complete');
  if (existsSync(done)) return libs;
  const home = dirname(libs);
  await mkdir(home, { recursive: true });
  return withDirLock(join(home, '.fetch.lock'), async () => {
    if (existsSync(done)) return libs;
    await rm(libs, { recursive: true, force: true });
    const pomFile = join(home, 'pom.xml');
    await writeFile(pomFile, pom(version, true));
    await runMaven([
      '-q',
      '-B',
      '-f',
      pomFile,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${libs}`,
      '-DincludeScope=runtime',
    ]);
    const jars = (await readdir(libs)).filter((name) => name.endsWith('.jar'));
    if (!jars.some((name) => name.startsWith('kafka_2.13-'))) {
      throw new Error(`Maven finished but ${libs} holds no kafka_2.13 jar`);
    }
    await writeFile(done, `${jars.length} jars\n`);
    return libs;
  });
}

export function runMaven(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const output: Buffer[] = [];
    const child = spawn('mvn', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'ENOENT'
          ? new Error(
              "Maven (mvn) is needed once to fetch Apache Kafka's jars and was not found on PATH. " +
                'Install it (Debian/Ubuntu: apt-get install maven) or set KAFKA_BROKERS to use a broker you already run.',
            )
          : error,
      );
    });
    child.on('exit', (code) => {
      if (code === 0) return resolve();
      const tail = Buffer.concat(output).toString('utf8').split('\n').slice(-30).join('\n');
      reject(new Error(`mvn ${args.join(' ')} failed with exit code ${code}:\n${tail}`));
    });
  });
}
