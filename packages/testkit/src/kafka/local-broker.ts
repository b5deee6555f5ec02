import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { log4jProperties, serverProperties, type Voter } from './broker-config.js';
import { ensureKafkaJars } from './jars.js';
import { freePort } from './ports.js';
import { commandLine, isAlive, terminate, tieToThisProcess, waitForExit } from './processes.js';
import { type SecureSetup, scramUsersArguments, secureServerProperties, writeClientProperties } from './secure.js';

export interface LocalBrokerOptions {
  /** Holds the broker's data, config, log and state file; reused across restarts. */
  readonly dir: string;
  /** Client port; a free one is chosen when absent (or when the preferred one is taken). */
  readonly port?: number;
  /** A node of a cluster (LocalCluster sets these): its id, controller port, every node, the cluster's id. */
  readonly node?: {
    readonly nodeId: number;
    readonly controllerPort: number;
    readonly voters: readonly Voter[];
    readonly clusterId: string;
  };
  /** Keep the broker running after this Node process exits (what `exactly kafka start` wants). */
  readonly detached?: boolean;
  readonly heapMb?: number;
  /** Extra server.properties entries, e.g. for a test that needs a short transaction timeout. */
  readonly config?: Readonly<Record<string, string>>;
  /** How long to wait for the broker to answer. */
  readonly startTimeoutMs?: number;
  /** A SASL_SSL listener (SCRAM-SHA-512) with ACLs instead of PLAINTEXT: see secure.ts. One node only. */
  readonly secure?: SecureSetup;
}

interface BrokerState {
  readonly pid: number;
  readonly port: number;
  readonly controllerPort: number;
}

/**
 * A KRaft node (broker and controller) from Apache Kafka's own jars on the local JVM: a one-node cluster on its
 * own, or a node of a LocalCluster. Started, killed and restarted by PID on the same directory and ports, so
 * chaos tests can kill -9 it and bring the same node back.
 */
export class LocalBroker {
  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly controllerPort: number,
    private readonly options: LocalBrokerOptions,
    private pidValue: number | undefined,
  ) {}

  get brokers(): string {
    return `127.0.0.1:${this.port}`;
  }
  get pid(): number | undefined {
    return this.pidValue;
  }
  get nodeId(): number {
    return this.options.node?.nodeId ?? 1;
  }
  get logFile(): string {
    return join(this.dir, 'broker.log');
  }
  private get configFile(): string {
    return join(this.dir, 'server.properties');
  }
  private get stateFile(): string {
    return join(this.dir, 'state.json');
  }

  /** The broker whose state lives in `dir`, if one is running there now. */
  static async attach(dir: string): Promise<LocalBroker | undefined> {
    const state = await readState(join(dir, 'state.json'));
    if (!state || !isAlive(state.pid)) return undefined;
    // A PID can be reused by another process after a reboot: only trust it if it runs our config.
    if (!commandLine(state.pid)?.includes(join(dir, 'server.properties'))) return undefined;
    return new LocalBroker(dir, state.port, state.controllerPort, { dir }, state.pid);
  }

  /** Formats `dir` on first use and starts the broker; resolves once it accepts clients. */
  static async start(options: LocalBrokerOptions): Promise<LocalBroker> {
    await mkdir(options.dir, { recursive: true });
    const previous = await readState(join(options.dir, 'state.json'));
    const port = await freePort(options.port ?? previous?.port ?? 0);
    const controllerPort = options.node?.controllerPort ?? (await freePort(previous?.controllerPort ?? 0));
    const broker = new LocalBroker(options.dir, port, controllerPort, options, undefined);
    await broker.start();
    return broker;
  }

  /** (Re)starts the broker process on this directory and these ports. */
  async start(): Promise<void> {
    if (this.pidValue !== undefined && isAlive(this.pidValue)) return;
    const libs = await ensureKafkaJars();
    const dataDir = join(this.dir, 'data');
    await writeFile(
      this.configFile,
      serverProperties({
        nodeId: this.nodeId,
        port: this.port,
        controllerPort: this.controllerPort,
        voters: this.options.node?.voters ?? [{ nodeId: 1, controllerPort: this.controllerPort }],
        logDir: dataDir,
        extra: {
          ...(this.options.secure ? secureServerProperties(this.options.secure, this.port, this.controllerPort) : {}),
          ...this.options.config,
        },
      }),
    );
    await writeFile(join(this.dir, 'log4j2.properties'), log4jProperties(this.logFile));
    if (!existsSync(join(dataDir, 'meta.properties'))) await this.format(libs);

    const out = openSync(join(this.dir, 'stdout.log'), 'a');
    let child: ChildProcess;
    try {
      child = spawn(
        'java',
        [
          `-Xmx${this.options.heapMb ?? 1024}m`,
          '-Xms256m',
          '-XX:+UseG1GC',
          '-Djava.awt.headless=true',
          `-Dlog4j2.configurationFile=${join(this.dir, 'log4j2.properties')}`,
          '-cp',
          `${libs}/*`,
          'kafka.Kafka',
          this.configFile,
        ],
        { stdio: ['ignore', out, out], detached: this.options.detached ?? false },
      );
    } finally {
      closeSync(out);
    }
    const spawned = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid ?? -1));
      child.once('error', (error: NodeJS.ErrnoException) => reject(javaError(error)));
    });
    if (this.options.detached) child.unref();
    else {
      // A private broker must not outlive the process that started it, even when that process never reaches
      // stop() (a test abandoned by its timeout, an uncaught error, a signal). Untied by stop()/kill().
      this.untie?.();
      this.untie = tieToThisProcess(spawned, 'SIGKILL');
    }
    this.pidValue = spawned;
    await writeFile(
      this.stateFile,
      JSON.stringify({ pid: spawned, port: this.port, controllerPort: this.controllerPort }),
    );
    await this.waitUntilReady(this.options.startTimeoutMs ?? 60_000);
    if (this.options.secure) await writeClientProperties(this.options.secure, this.brokers);
  }

  /** Unties the broker from this process (see tieToThisProcess); set while a private broker runs. */
  private untie: (() => void) | undefined;

  /** kill -9: no shutdown, no flush; for chaos tests. Resolves once the process is gone. */
  async kill(): Promise<void> {
    const pid = this.pidValue;
    if (pid === undefined) return;
    await terminate(pid, 'SIGKILL', 10_000);
    this.pidValue = undefined;
    this.untie?.();
    this.untie = undefined;
  }

  /** Controlled shutdown (SIGTERM), then SIGKILL if it takes longer than 30 s. Leaves no process behind. */
  async stop(): Promise<void> {
    const pid = this.pidValue;
    if (pid === undefined) return;
    await terminate(pid, 'SIGTERM', 30_000);
    this.pidValue = undefined;
    this.untie?.();
    this.untie = undefined;
  }

  private async format(libs: string): Promise<void> {
    const clusterId = this.options.node?.clusterId ?? newClusterId();
    const users = this.options.secure ? scramUsersArguments(this.options.secure) : [];
    await runJava(
      libs,
      ['kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', this.configFile, ...users],
      this.dir,
    );
  }

  private async waitUntilReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const pid = this.pidValue as number;
    while (Date.now() < deadline) {
      if (!isAlive(pid)) {
        await waitForExit(pid, 1000);
        throw new Error(`Kafka exited during start-up. From ${this.logFile}:\n${await this.logTail()}`);
      }
      const log = await readFile(this.logFile, 'utf8').catch(() => '');
      if (log.includes('Kafka Server started') && (await acceptsConnections(this.port))) return;
      await delay(100);
    }
    await terminate(pid, 'SIGKILL', 5000);
    throw new Error(
      `Kafka did not start within ${timeoutMs} ms. Last lines of ${this.logFile}:\n${await this.logTail()}`,
    );
  }

  /**
   * For error messages: the broker's ERROR and FATAL lines first (the cause; a failed start ends in pages of
   * shutdown chatter), then the last lines of its logs.
   */
  async logTail(lines = 15): Promise<string> {
    const read = async (file: string) => (await readFile(join(this.dir, file), 'utf8').catch(() => '')).trimEnd();
    const all = [await read('broker.log'), await read('stdout.log')].filter(Boolean).join('\n').split('\n');
    // Each ERROR line with the two after it: the exception and its message follow on the next lines.
    const errors = all.flatMap((line, i) => (/\b(ERROR|FATAL)\b/.test(line) ? all.slice(i, i + 3) : [])).slice(0, 15);
    const tail = all.slice(-lines).join('\n') || '(the broker wrote no log)';
    return errors.length > 0 ? `${errors.join('\n')}\n...\n${tail}` : tail;
  }
}

/**
 * A KRaft cluster id: base64url of 16 random bytes, never starting with '-' (StorageTool would read it as an
 * option; Kafka's own Uuid.randomUuid() avoids such ids for the same reason).
 */
export function newClusterId(): string {
  let clusterId = randomBytes(16).toString('base64url');
  while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
  return clusterId;
}

async function readState(file: string): Promise<BrokerState | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as BrokerState;
  } catch {
    return undefined;
  }
}

function acceptsConnections(port: number): Promise<boolean> {
  return import('node:net').then(
    ({ connect }) =>
      new Promise((resolve) => {
        const socket = connect({ host: '127.0.0.1', port });
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      }),
  );
}

function javaError(error: NodeJS.ErrnoException): Error {
  if (error.code === 'ENOENT') {
    return new Error(
      'Java was not found on PATH. The local Kafka runs on a JVM: install Java 17 or newer ' +
        '(Debian/Ubuntu: apt-get install openjdk-17-jre-headless), or set KAFKA_BROKERS to use a broker you already run.',
    );
  }
  return error;
}

function runJava(libs: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const output: Buffer[] = [];
    const child = spawn('java', ['-cp', `${libs}/*`, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => reject(javaError(error)));
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(
            new Error(
              `java ${args.join(' ')} failed (exit ${code}):\n${Buffer.concat(output).toString('utf8').trim()}`,
            ),
          ),
    );
  });
}
