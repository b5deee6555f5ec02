import { findSharedRabbitMQ, startRabbitMQ } from '@exactly/testkit';

const USAGE = 'usage: exactly rabbitmq start | stop | status';

/** `exactly rabbitmq start|stop|status`: a local RabbitMQ node for development. */
export async function rabbitmqCommand(args: string[]): Promise<number> {
  const say = (text: string) => process.stdout.write(`${text}\n`);
  switch (args[0]) {
    case 'start': {
      const started = Date.now();
      const running = await findSharedRabbitMQ();
      if (running) {
        say(`RabbitMQ is already running: ${running.url} (node ${running.nodeName}, pid ${running.pid}).`);
        return 0;
      }
      const server = await startRabbitMQ({ mode: 'shared', localOnly: true });
      say(
        `RabbitMQ started: ${server.url} (node ${server.local?.nodeName}, pid ${server.local?.pid}) in ` +
          `${((Date.now() - started) / 1000).toFixed(1)} s.`,
      );
      say('Stop it with: exactly rabbitmq stop');
      return 0;
    }
    case 'stop': {
      const running = await findSharedRabbitMQ();
      if (!running) {
        say('No local RabbitMQ is running.');
        return 0;
      }
      await running.stop();
      say('RabbitMQ stopped.');
      return 0;
    }
    case 'status': {
      const running = await findSharedRabbitMQ();
      say(running ? `running: ${running.url} (node ${running.nodeName}, pid ${running.pid})` : 'not running');
      return running ? 0 : 3;
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      return args[0] === '--help' ? 0 : 2;
  }
}
