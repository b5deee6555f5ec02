import { findSharedKafka, startKafka } from '@exactly/testkit';

/**
 * The brokers a command talks to: `--brokers`, else `KAFKA_BROKERS`, else the local broker of
 * `exactly kafka start` (started now if it is not running).
 */
export async function resolveBrokers(flag: string | undefined, log: (line: string) => void): Promise<string> {
  if (flag) return flag;
  if (process.env.KAFKA_BROKERS) return process.env.KAFKA_BROKERS;
  const running = await findSharedKafka();
  if (running) return running.brokers;
  log('No KAFKA_BROKERS set and no local Kafka running: starting one (exactly kafka stop ends it)...');
  const started = Date.now();
  const kafka = await startKafka({ mode: 'shared', localOnly: true });
  log(`Local Kafka started at ${kafka.brokers} in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  return kafka.brokers;
}
