import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from '../kafka/ports.js';
import { commandLine, isAlive, terminate, tieToThisProcess, waitForExit } from '../kafka/processes.js';
import { coreApplicationDirs, rabbitmqServerPath } from './binaries.js';
import { isOurEpmd, startEpmd } from './epmd.js';
import { amqpAnswers } from './ready.js';

export interface LocalRabbitMQOptions {
  /** Holds the node's data (mnesia), logs, Erlang cookie (it is the node's HOME) and state file; kept across restarts. */
  readonly dir: string;
  /** The AMQP port on 127.0.0.1; a free one when absent (or taken). */
  readonly port?: number;
  /** The Erlang node name (`name@localhost`); a new unique one when absent (then kept in the state file). */
  readonly nodeName?: string;
  /** Keep the node (and its epmd) running after this Node process exits (what `exactly rabbitmq start` wants). */
  readonly detached?: boolean;
  /** How long start() waits for an AMQP connection to open. Default 60 s. */
  readonly startTimeoutMs?: number;
}

interface RabbitMQState {
  readonly nodeName: string;
  readonly port: number;
  readonly distPort: number;
  readonly epmdPort: number;
  readonly pid?: number;
  readonly epmdPid?: number;
}

/**
 * A RabbitMQ node from the machine's own installation (Debian's `rabbitmq-server` package), started and stopped
 * by PID, everything in one directory of ours: no system service, nothing under /var/lib/rabbitmq or /etc/rabbitmq
 * (its config and env files are pointed at absent files in `dir`). Bound to 127.0.0.1: AMQP on `port`, Erlang
 * distribution on `distPort`, and its own epmd on `epmdPort` (see startEpmd for why). No plugins. `guest`/`guest`
 * works from loopback. Runs as root too (RabbitMQ, unlike PostgreSQL, does not refuse it).
 *
 * For chaos tests: kill() is a crash of the node (SIGKILL to beam.smp, its epmd stays), and start() brings it back on
 * the same data and ports, so durable queues and persistent messages survive. stop() is graceful (SIGTERM, which
 * RabbitMQ handles as `rabbitmqctl stop`), SIGKILL after a deadline, and ends its epmd.
 */
export class LocalRabbitMQ {
  /** Unties a private node and its epmd from this process (see tieToThisProcess). */
  private untieNode: (() => void) | undefined;
  private untieEpmd: (() => void) | undefined;

  private constructor(
    readonly dir: string,
    private readonly state: Omit<RabbitMQState, 'pid' | 'epmdPid'>,
    private readonly options: LocalRabbitMQOptions,
    private pidValue: number | undefined,
    private epmdPid: number | undefined,
  ) {}

  /** `amqp://guest:guest@127.0.0.1:<port>/%2F`. */
  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}/%2F`;
  }

  get port(): number {
    return this.state.port;
  }

  get distPort(): number {
    return this.state.distPort;
  }

  get epmdPort(): number {
    return this.state.epmdPort;
  }

  /** `name@localhost`. */
  get nodeName(): string {
    return this.state.nodeName;
  }

  /** The node's beam.smp, while running. */
  get pid(): number | undefined {
    return this.pidValue;
  }

  /** The environment under which `rabbitmqctl -n <nodeName>` reaches this node (same HOME: the cookie; same epmd). */
  get env(): NodeJS.ProcessEnv {
    const dir = this.dir;
    return {
      ...process.env,
      HOME: dir,
      ERL_EPMD_PORT: String(this.epmdPort),
      RABBITMQ_NODENAME: this.nodeName,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(this.port),
      RABBITMQ_DIST_PORT: String(this.distPort),
      RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(dir, 'log'),
      RABBITMQ_PID_FILE: join(dir, 'rabbitmq.pid'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
      RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq'), // absent: the defaults, not /etc/rabbitmq's
      RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
      RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
      // No epmd daemon of its own (ours runs), distribution on loopback only.
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}',
    };
  }

  private get logFile(): string {
    return join(this.dir, 'log', `${this.nodeName}.log`);
  }

  /** The node whose state lives in `dir`, if it is running now. */
  static async attach(dir: string): Promise<LocalRabbitMQ | undefined> {
    const state = await readState(dir);
    if (state?.pid === undefined || !isAlive(state.pid)) return undefined;
    if (!commandLine(state.pid)?.includes(`-home ${dir}`)) return undefined; // a reused PID
    const epmdPid = state.epmdPid !== undefined && isOurEpmd(state.epmdPid, state.epmdPort) ? state.epmdPid : undefined;
    return new LocalRabbitMQ(dir, state, { dir, detached: true }, state.pid, epmdPid);
  }

  static async start(options: LocalRabbitMQOptions): Promise<LocalRabbitMQ> {
    const previous = await readState(options.dir);
    const state = {
      nodeName: options.nodeName ?? previous?.nodeName ?? `exactly-${randomBytes(4).toString('hex')}@localhost`,
      port: await freePort(options.port ?? previous?.port ?? 0),
      distPort: await freePort(previous?.distPort ?? 0),
      epmdPort: await freePort(previous?.epmdPort ?? 0),
    };
    const node = new LocalRabbitMQ(options.dir, state, options, undefined, undefined);
    await node.start();
    return node;
  }

  /** (Re)starts the node (and its epmd if needed) on this directory and these ports; resolves once AMQP answers. */
  async start(): Promise<void> {
    if (this.pidValue !== undefined && isAlive(this.pidValue)) return;
    const detached = this.options.detached ?? false;
    await mkdir(join(this.dir, 'log'), { recursive: true, mode: 0o700 });
    await writeFile(join(this.dir, 'enabled_plugins'), '[].\n');
    const env = this.env;
    const pluginsDir = await this.corePlugins();
    if (pluginsDir) env.RABBITMQ_PLUGINS_DIR = pluginsDir;
    if (this.epmdPid === undefined || !isOurEpmd(this.epmdPid, this.epmdPort)) {
      this.untieEpmd?.();
      this.epmdPid = await startEpmd(this.epmdPort, detached);
      this.untieEpmd = detached ? undefined : tieToThisProcess(this.epmdPid, 'SIGKILL');
    }
    const pidFile = join(this.dir, 'rabbitmq.pid');
    await rm(pidFile, { force: true });
    const out = openSync(join(this.dir, 'server.out'), 'a');
    let wrapper: number;
    try {
      // The script stays as a small shell (it passes SIGTERM/SIGINT on as a clean stop) around beam.smp.
      const child = spawn(rabbitmqServerPath(), [], { stdio: ['ignore', out, out], cwd: this.dir, env, detached });
      wrapper = await new Promise<number>((resolve, reject) => {
        child.once('spawn', () => resolve(child.pid ?? -1));
        child.once('error', reject);
      });
      if (detached) child.unref();
    } finally {
      closeSync(out);
    }
    this.untieNode?.();
    // Until the node writes its PID file: its wrapper, which passes SIGTERM on to the node.
    this.untieNode = detached ? undefined : tieToThisProcess(wrapper, 'SIGTERM');
    await this.writeState();
    await this.waitUntilReady(wrapper, pidFile);
  }

  /** A crash: SIGKILL to beam.smp at once (no clean shutdown); its epmd stays. start() brings it back. */
  async kill(): Promise<void> {
    const pid = this.pidValue;
    if (pid === undefined) return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await waitForExit(pid, 10_000);
    this.forgetNode();
    await this.writeState();
  }

  /** kill() then start(): a node crash and its recovery on the same data and ports. */
  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  /** A clean stop (SIGTERM, SIGKILL after `graceMs`), then its epmd. Leaves no process of the node behind. */
  async stop(graceMs = 30_000): Promise<void> {
    const pid = this.pidValue;
    if (pid !== undefined) await terminate(pid, 'SIGTERM', graceMs);
    this.forgetNode();
    const epmd = this.epmdPid;
    if (epmd !== undefined && isOurEpmd(epmd, this.epmdPort)) await terminate(epmd, 'SIGTERM', 5000);
    this.epmdPid = undefined;
    this.untieEpmd?.();
    this.untieEpmd = undefined;
    await this.writeState();
  }

  private forgetNode(): void {
    this.pidValue = undefined;
    this.untieNode?.();
    this.untieNode = undefined;
  }

  /** A plugins directory of links to the applications the broker needs alone (see coreApplicationDirs). */
  private async corePlugins(): Promise<string | undefined> {
    const apps = coreApplicationDirs();
    if (!apps) return undefined;
    const dir = join(this.dir, 'plugins');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir);
    await Promise.all(apps.map((app) => symlink(app, join(dir, basename(app)))));
    return dir;
  }

  /** Ready when an AMQP connection opens; the node's PID comes from its PID file (RABBITMQ_PID_FILE). */
  private async waitUntilReady(wrapper: number, pidFile: string): Promise<void> {
    const timeoutMs = this.options.startTimeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!isAlive(wrapper) && (this.pidValue === undefined || !isAlive(this.pidValue))) {
        throw new Error(`RabbitMQ node ${this.nodeName} exited during start-up. ${await this.logTail()}`);
      }
      if (this.pidValue === undefined && existsSync(pidFile)) {
        const pid = Number((await readFile(pidFile, 'utf8')).trim());
        if (pid > 0) {
          this.pidValue = pid;
          this.untieNode?.();
          this.untieNode = this.options.detached ? undefined : tieToThisProcess(pid, 'SIGKILL');
          await this.writeState();
        }
      }
      if (this.pidValue !== undefined && (await amqpAnswers(this.url, 1000))) return;
      await delay(100);
    }
    throw new Error(
      `RabbitMQ node ${this.nodeName} did not accept AMQP within ${timeoutMs} ms. ${await this.logTail()}`,
    );
  }

  private async logTail(): Promise<string> {
    const tail = async (file: string) =>
      (await readFile(file, 'utf8').catch(() => '')).trimEnd().split('\n').slice(-15).join('\n');
    return `From ${this.logFile}:\n${await tail(this.logFile)}\nFrom ${join(this.dir, 'server.out')}:\n${await tail(join(this.dir, 'server.out'))}`;
  }

  private async writeState(): Promise<void> {
    const state: RabbitMQState = { ...this.state, pid: this.pidValue, epmdPid: this.epmdPid };
    try {
      await writeFile(join(this.dir, 'state.json'), JSON.stringify(state));
    } catch (error) {
      // A private node's directory is removed after its stop(); a second stop() has nothing to record.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

async function readState(dir: string): Promise<RabbitMQState | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as RabbitMQState;
  } catch {
    return undefined;
  }
}
