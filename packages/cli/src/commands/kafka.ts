import { findSharedKafka, startKafka } from '@exactly/testkit';

/** `exactly kafka start|stop|status`: the shared local broker that `exactly run` and `pnpm start` use. */
export async function kafkaCommand(args: string[]): Promise<number> {
  const [action] = args;
  switch (action) {
    case 'start': {
      const started = Date.now();
      const running = await findSharedKafka();
      if (running) {
        process.stdout.write(`Kafka is already running at ${running.brokers} (pid ${running.pid}); reusing it.\n`);
        return 0;
      }
      const kafka = await startKafka({ mode: 'shared', localOnly: true });
      process.stdout.write(
        `Kafka started at ${kafka.brokers} (pid ${kafka.local?.pid}) in ${((Date.now() - started) / 1000).toFixed(1)} s.\n` +
          `Stop it with: exactly kafka stop\n`,
      );
      return 0;
    }
    case 'stop': {
      const running = await findSharedKafka();
      if (!running) {
        process.stdout.write('No local Kafka is running.\n');
        return 0;
      }
      const pid = running.pid;
      await running.stop();
      process.stdout.write(`Kafka (pid ${pid}) stopped.\n`);
      return 0;
    }
    case 'status': {
      const running = await findSharedKafka();
      process.stdout.write(running ? `running at ${running.brokers} (pid ${running.pid})\n` : 'not running\n');
      return running ? 0 : 3;
    }
    default:
      process.stderr.write('usage: exactly kafka start|stop|status\n');
      return 2;
  }
}
