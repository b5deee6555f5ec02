import type { Logger } from '../observability/logger.js';
import type { ClientName } from '../options.js';
import type { ClientAdapter } from '../port/client.js';

/** Loads the chosen client's adapter; each library is imported only when chosen (platformatic needs Node 22.22+). */
export async function createAdapter(
  client: ClientName,
  connection: { readonly brokers: readonly string[]; readonly clientId: string },
  log: Logger,
): Promise<ClientAdapter> {
  if (client === 'platformatic') {
    const { platformaticAdapter } = await import('./platformatic/index.js');
    return platformaticAdapter(connection);
  }
  const { kafkaJsAdapter } = await import('./kafkajs/index.js');
  return kafkaJsAdapter({ ...connection, log: (level, message, extra) => log[level](extra, message) });
}
