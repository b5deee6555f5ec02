import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const CLIENT_LIBRARIES: Record<string, readonly string[]> = {
  kafkajs: ['packages/runtime/src/adapters/kafkajs/'],
  '@platformatic/kafka': ['packages/runtime/src/adapters/platformatic/'],
  // KafkaJS loaded with Kafka's read_committed rule, and the rule itself for @platformatic/kafka's fetches.
  '@exactly/read-committed': ['packages/runtime/src/adapters/kafkajs/', 'packages/runtime/src/adapters/platformatic/'],
};

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (/\.(ts|mts|js)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) yield path;
  }
}

// testkit (the independent read_committed checker) and bench (the hand-written baseline) use KafkaJS on purpose.
describe('client libraries stay inside their adapters', () => {
  it('no file of core, runtime or cli outside an adapter imports a Kafka client library', () => {
    const offenders: string[] = [];
    for (const pkg of ['core', 'runtime', 'cli']) {
      for (const file of sources(join(root, 'packages', pkg, 'src'))) {
        const path = relative(root, file);
        const text = readFileSync(file, 'utf8');
        for (const [library, homes] of Object.entries(CLIENT_LIBRARIES)) {
          const imports = new RegExp(`(from\\s+|import\\(\\s*|require\\(\\s*)['"]${library}(/[^'"]*)?['"]`).test(text);
          if (imports && !homes.some((home) => path.startsWith(home))) offenders.push(`${path} imports ${library}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the check sees the imports it is meant to catch', () => {
    const adapter = readFileSync(join(root, CLIENT_LIBRARIES.kafkajs?.[0] ?? '', 'index.ts'), 'utf8');
    expect(adapter).toMatch(/from 'kafkajs'/);
    expect(adapter).toMatch(/from '@exactly\/read-committed'/);
  });
});
