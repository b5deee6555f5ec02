import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalBroker } from '../src/index.js';

// The global setup has already fetched the jars, so these exercise start-up itself.
describe('the local broker fails clearly', () => {
  const dirs: string[] = [];
  const fresh = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'exactly-broker-test-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it("says so, leading with the broker log's ERROR lines, when the broker cannot start", async () => {
    const dir = await fresh();
    const broker = await LocalBroker.start({ dir });
    await broker.stop();
    // Storage that belongs to another node: the broker checks it at start-up and refuses to run.
    const meta = join(dir, 'data', 'meta.properties');
    await writeFile(meta, (await readFile(meta, 'utf8')).replace(/node\.id=1/, 'node.id=7'));
    await expect(broker.start()).rejects.toThrow(
      /Kafka exited during start-up\. From .*broker\.log:\n.*ERROR[\s\S]*Stored node id 7 doesn.t match/,
    );
  });

  it("rejects a configuration the broker refuses, with the tool's own message", async () => {
    const attempt = LocalBroker.start({ dir: await fresh(), config: { 'num.network.threads': 'not-a-number' } });
    await expect(attempt).rejects.toThrow(/StorageTool format .* failed[\s\S]*num\.network\.threads/);
  });

  it('says Java is missing (and what to do) when there is no java on PATH', async () => {
    const dir = await fresh();
    const path = process.env.PATH;
    process.env.PATH = dir; // an empty directory: no java, no mvn
    try {
      await expect(LocalBroker.start({ dir })).rejects.toThrow(/Java was not found on PATH.*Java 17.*KAFKA_BROKERS/s);
    } finally {
      process.env.PATH = path;
    }
  });
});
