import { type ChildProcess, spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { commandLine, isAlive } from '../kafka/processes.js';

/**
 * A private Erlang port mapper (epmd) for one local RabbitMQ node, on its own loopback port.
 *
 * Decision: an Erlang node registers its name with an epmd, and starts one itself (`epmd -daemon`, on 4369,
 * bound to every interface) when none answers; that daemon outlives the node, and a system epmd on 4369 may be
 * someone else's. So each local node gets an epmd we start ourselves, in the foreground (our child, known by its
 * PID), on a free port bound to 127.0.0.1 (`epmd -port P -address 127.0.0.1`); the node, its boot-time helper and
 * `rabbitmqctl` find it through `ERL_EPMD_PORT=P`, and the node runs with `-start_epmd false` so that it never
 * starts a daemon of its own. stop() ends it by its PID; kill() (a node crash) leaves it, as a real crash would.
 * (Distribution without any epmd, `-erl_epmd_port`, was rejected: `rabbitmqctl` is a node too, and would need a
 * listening port of its own agreed in advance.)
 */
export async function startEpmd(port: number, detached: boolean): Promise<number> {
  const epmd = spawn('epmd', ['-port', String(port), '-address', '127.0.0.1'], {
    stdio: 'ignore',
    detached,
    env: { ...process.env, ERL_EPMD_PORT: String(port) },
  });
  const pid = await new Promise<number>((resolve, reject) => {
    epmd.once('spawn', () => resolve(epmd.pid ?? -1));
    epmd.once('error', (error) =>
      reject(new Error(`cannot start epmd (Erlang's port mapper, part of erlang-base): ${error.message}`)),
    );
  });
  if (detached) epmd.unref();
  await waitUntilListening(epmd, port);
  return pid;
}

/** True when `pid` is an epmd serving `port` (not a reused PID). */
export function isOurEpmd(pid: number, port: number): boolean {
  const line = commandLine(pid);
  return isAlive(pid) && line?.includes('epmd') === true && line.includes(`-port ${port}`);
}

async function waitUntilListening(epmd: ChildProcess, port: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (epmd.exitCode !== null) throw new Error(`epmd on port ${port} exited (code ${epmd.exitCode})`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await delay(20);
  }
  throw new Error(`epmd did not listen on 127.0.0.1:${port} within 5 s`);
}
