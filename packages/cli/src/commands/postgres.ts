import { findSharedPostgres, startPostgres } from '@exactly/testkit';

const USAGE = 'usage: exactly postgres start | stop | status';

/** `exactly postgres start|stop|status`: a local PostgreSQL (two-phase commit on) for development. */
export async function postgresCommand(args: string[]): Promise<number> {
  const say = (text: string) => process.stdout.write(`${text}\n`);
  switch (args[0]) {
    case 'start': {
      const started = Date.now();
      const running = await findSharedPostgres();
      if (running) {
        say(`PostgreSQL is already running: ${running.url} (pid ${running.pid}).`);
        return 0;
      }
      const server = await startPostgres({ mode: 'shared', localOnly: true });
      say(
        `PostgreSQL started: ${server.url} (pid ${server.local?.pid}) in ${((Date.now() - started) / 1000).toFixed(1)} s.`,
      );
      say('Stop it with: exactly postgres stop');
      return 0;
    }
    case 'stop': {
      const running = await findSharedPostgres();
      if (!running) {
        say('No local PostgreSQL is running.');
        return 0;
      }
      await running.stop();
      say('PostgreSQL stopped.');
      return 0;
    }
    case 'status': {
      const running = await findSharedPostgres();
      say(running ? `running: ${running.url} (pid ${running.pid})` : 'not running');
      return running ? 0 : 3;
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      return args[0] === '--help' ? 0 : 2;
  }
}
