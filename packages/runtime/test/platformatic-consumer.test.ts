import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { nodeRunsPlatformatic } from '../src/adapters/platformatic/node-version.js';
import type { ConsumerHandlers, ConsumerPort } from '../src/port/client.js';

// @platformatic/kafka needs Node 22.22+.
const adapter = nodeRunsPlatformatic(process.versions.node)
  ? await import('../src/adapters/platformatic/consumer.js')
  : undefined;

const handlers: ConsumerHandlers = {
  onBatch: async () => {},
  onPoll: async () => {},
  onAssignment: () => {},
  onCrash: () => {},
};

describe.runIf(adapter)('the platformatic consumer, started again after a failed start-up', () => {
  it('listens to its group once: a later join opens one stream and reports the assignment once', async () => {
    if (!adapter) throw new Error('unreachable');
    const port: ConsumerPort = adapter.platformaticConsumer(
      { brokers: ['127.0.0.1:1'], clientId: 'restart-test' },
      {
        groupId: 'g',
        topic: 't',
        maxWaitMs: 100,
        minBytes: 1,
        maxBytesPerPartition: 1024,
        maxBytes: 1024,
        sessionTimeoutMs: 6000,
        heartbeatIntervalMs: 600,
        concurrency: 1,
        maxPollRecords: 10,
      },
    );
    // The client inside, its join failing at once (as when Kafka went away during the join); white-box on purpose.
    const client = (port as unknown as { consumer: EventEmitter & { consume: () => Promise<never> } }).consumer;
    expect(client).toBeInstanceOf(EventEmitter);
    client.consume = () => Promise.reject(new Error('joinGroup failed 8 times'));
    for (let attempt = 0; attempt < 3; attempt++)
      await expect(port.start(handlers)).rejects.toThrow(/joinGroup failed/);
    expect(client.listenerCount('consumer:group:join')).toBe(1);
    expect(client.listenerCount('error')).toBe(1);
    await port.stop();
  });
});
