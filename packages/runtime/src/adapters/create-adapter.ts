import type { Logger } from '../observability/logger.js';
import type { ClientName } from '../options.js';
import type { AdapterLog, ClientAdapter } from '../port/client.js';
import type { KafkaConnection } from './security.js';

/** Loads the chosen client's adapter; each library is imported only when chosen (platformatic needs Node 22.22+). */
export async function createAdapter(
  client: ClientName,
  connection: KafkaConnection,
  log: Logger,
): Promise<ClientAdapter> {
  const adapterLog: AdapterLog = (level, message, extra) => log[level](extra, message);
  if (client === 'platformatic') {
    const { platformaticAdapter } = await import('./platformatic/index.js');
    return platformaticAdapter({ ...connection, log: adapterLog });
  }
  const { kafkaJsAdapter } = await import('./kafkajs/index.js');
  return kafkaJsAdapter({ ...connection, log: adapterLog });
}
