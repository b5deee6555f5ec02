import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChaosReport } from '../src/chaos/run-chaos.js';

/**
 * What a failed chaos verdict needs for a diagnosis, in the assertion's message (CI keeps that, not the logs
 * directory): each output's counts and examples (the missing inputs as runs per partition), and the instances'
 * last error lines other than connection noise.
 */
export function chaosDiagnosis(report: ChaosReport): string {
  const outputs = report.verdict.outputs.map((o) => ({
    topic: o.topic,
    records: o.records,
    missing: o.missing,
    duplicated: o.duplicated,
    committedUnread: o.committedUnread,
    unresolved: o.unresolved,
    abortedInLog: o.abortedInLog,
    examples: o.examples,
  }));
  return `${JSON.stringify({ seed: report.seed, brokerKills: report.brokerKills, outputs }, null, 1)}\n${warningsAndErrors(report.logs)}`;
}

const NOISE = /ECONNREFUSED|ECONNRESET|Closed connection|Failed to connect to seed broker/;

function warningsAndErrors(logs: string): string {
  const lines: string[] = [];
  for (const file of readdirSync(logs).filter((f) => f.endsWith('.log'))) {
    const text = readFileSync(join(logs, file), 'utf8');
    const flagged = text.split('\n').filter((line) => /"level":(40|50|60)/.test(line) && !NOISE.test(line));
    lines.push(...flagged.slice(-20).map((line) => `${file}: ${line.slice(0, 400)}`));
  }
  return lines.join('\n');
}
