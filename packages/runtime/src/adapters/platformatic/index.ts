import type { ClientAdapter } from '../../port/client.js';
import { platformaticAdmin } from './admin.js';
import type { PlatformaticConnection } from './connection.js';
import { platformaticConsumer } from './consumer.js';
import { platformaticProducer } from './producer.js';

export type PlatformaticAdapterOptions = PlatformaticConnection;

/**
 * The @platformatic/kafka adapter: its offset commits carry the group's generation (KIP-447), so the engine
 * runs one transactional producer per instance. Load it with a dynamic import: the library needs Node 22.22+.
 */
export function platformaticAdapter(options: PlatformaticAdapterOptions): ClientAdapter {
  return {
    name: 'platformatic',
    fencing: 'instance',
    consumer: (consumerOptions) => platformaticConsumer(options, consumerOptions),
    producer: (producerOptions) => platformaticProducer(options, producerOptions),
    admin: () => platformaticAdmin(options),
  };
}
