import type { MetricsSnapshot, RunningProcessor } from '@exactly/runtime';

/** A live line on a terminal: records/s, lag, transactions. Updated twice a second, erased on stop. */
export function startProgressLine(app: RunningProcessor): { stop(): void } {
  let last = { at: Date.now(), records: 0 };
  const timer = setInterval(() => {
    void app.metrics().then((m) => {
      const now = Date.now();
      const rate = ((m.recordsIn - last.records) * 1000) / Math.max(1, now - last.at);
      last = { at: now, records: m.recordsIn };
      process.stdout.write(
        `\r\x1b[2K${m.recordsIn} in, ${m.recordsOut} out, ${Math.round(rate)} rec/s, lag ${m.lag}, ` +
          `${m.transactionsCommitted} tx committed, ${m.transactionsAborted} aborted, ${m.deadLetters} dead letters` +
          queuePart(m),
      );
    });
  }, 500);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      process.stdout.write('\r\x1b[2K');
    },
  };
}

/** For a queue input: acknowledged, duplicates recognised, in flight, and the mean publish-to-commit delay. */
function queuePart(m: MetricsSnapshot): string {
  if (m.queueAcknowledged === 0 && m.queueUnacknowledged === 0) return '';
  const delay = Number.isNaN(m.queueDelayMs) ? '' : `, delay ${Math.round(m.queueDelayMs)} ms`;
  return ` | queue ${m.queueAcknowledged} acked, ${m.queueDuplicates} duplicates, ${m.queueUnacknowledged} unacked${delay}`;
}
