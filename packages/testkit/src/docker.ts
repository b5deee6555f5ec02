import { request } from 'node:http';

/**
 * True when a Docker engine answers its API ping within `timeoutMs`. The `docker` client alone is not
 * enough (machines may have the client and no daemon), so this asks the engine itself.
 */
export function dockerEngineAnswers(timeoutMs = 1000): Promise<boolean> {
  const host = process.env.DOCKER_HOST;
  const target = host?.startsWith('tcp://')
    ? (() => {
        const url = new URL(host.replace('tcp://', 'http://'));
        return { host: url.hostname, port: Number(url.port || 2375) };
      })()
    : { socketPath: host?.startsWith('unix://') ? host.slice('unix://'.length) : '/var/run/docker.sock' };
  return new Promise((resolve) => {
    const req = request({ ...target, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/**
 * testcontainers, which runs Kafka or a schema registry in a Docker engine. It is an optional peer
 * dependency (it brings an SSH client and a native build), so an application without Docker never installs it.
 */
export async function loadTestcontainers(): Promise<typeof import('testcontainers')> {
  try {
    return await import('testcontainers');
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new Error(
      'a Docker engine answers, and running a server in it needs testcontainers, which is not installed: ' +
        'add it (pnpm add -D testcontainers), or set EXACTLY_NO_DOCKER=1 to run it on the local JVM instead',
    );
  }
}
