// Builds the Kafka Streams contender (bench/peers/kafka-streams) with Maven when its jar is missing or older than
// its sources, so that `pnpm bench` works on a fresh clone and does not rebuild on every run.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTool } from './exec.js';

export const peerDir = fileURLToPath(new URL('../peers/kafka-streams/', import.meta.url));
export const peerJar = join(peerDir, 'target', 'kafka-streams-contender.jar');

/** Kafka Streams' version, as the peer's pom.xml pins it. */
export function kafkaStreamsVersion(): string {
  const pom = readFileSync(join(peerDir, 'pom.xml'), 'utf8');
  return /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1] ?? 'unknown';
}

export async function buildKafkaStreamsPeer(log: (line: string) => void): Promise<void> {
  if (!stale()) return;
  log('Building the Kafka Streams contender (mvn -q package in bench/peers/kafka-streams)...');
  const started = Date.now();
  await runTool('mvn', ['-q', '-B', 'package'], { cwd: peerDir });
  log(`Built ${peerJar} in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
}

function stale(): boolean {
  if (!existsSync(peerJar) || !existsSync(join(peerDir, 'target', 'lib'))) return true;
  const built = statSync(peerJar).mtimeMs;
  return [join(peerDir, 'pom.xml'), ...filesUnder(join(peerDir, 'src'))].some((file) => statSync(file).mtimeMs > built);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}
