import { createTopics, readTopic, uniqueTopic } from '@exactly/testkit';
import { describe, expect, inject, it } from 'vitest';
import { createAdapter } from '../src/adapters/create-adapter.js';
import { createLogger } from '../src/observability/logger.js';
import { ClientError } from '../src/port/errors.js';
import { CLIENTS } from './helpers.js';

const brokers = inject('kafkaBrokers');

// The engine's safety rests on this order: a new owner's init() fences the old owner *before* it reads the
// committed offset. Both clients send the transactional InitProducerId lazily (on the first transaction), so
// the adapters force it inside init(). Found by `pnpm chaos` (a zombie resumed and fenced the new owners).
// The second init() is also the restart of an instance on a transactional.id used before: @platformatic/kafka
// asked to re-init producer 0 there, which the broker refuses; the adapter asks for a new producer.
describe.each(CLIENTS)('the %s adapter: init() fences at once (real broker)', (client) => {
  it("a second producer's init() alone fences the first: the first one's open transaction cannot commit", async () => {
    const topic = uniqueTopic('fence-on-init');
    await createTopics(brokers, [topic]);
    const adapter = await createAdapter(
      client,
      { brokers: [brokers], clientId: 'fencing-test' },
      createLogger('silent', {}),
    );
    const options = { transactionalId: `${topic}.tx`, transactionTimeoutMs: 30_000, maxRequestBytes: 900 * 1024 };
    const oldOwner = adapter.producer(options);
    await oldOwner.init();
    const stale = await oldOwner.begin();
    await stale.send([{ topic, key: null, value: Buffer.from('from the old owner'), headers: {} }]);

    const newOwner = adapter.producer(options);
    await newOwner.init(); // no transaction begun: the fencing must already have happened

    const error = await stale.commit().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).kind).toBe('fenced');
    await Promise.all([oldOwner.close(), newOwner.close()]);
    expect(await readTopic(brokers, topic)).toEqual([]);
  });
});
