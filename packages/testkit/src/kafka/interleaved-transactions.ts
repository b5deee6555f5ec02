import type { Message, Producer } from 'kafkajs';
import { testClient } from './client.js';

export interface InterleavedTransactionsOptions {
  readonly brokers: string;
  readonly topic: string;
  /** Records to commit; each round commits one. */
  readonly committed: readonly Message[];
  /** Records to abort; each round aborts up to three, in transactions interleaved with the committed one. */
  readonly aborted: readonly Message[];
  /** All records go to this partition, so the transactions interleave in one log. Default 0. */
  readonly partition?: number;
}

/**
 * Writes `committed` and `aborted` records in transactions that interleave in one partition the way concurrent
 * upstream processors' do, in the patterns that naive read_committed filters get wrong: a transaction aborted
 * while an older one of another producer is still open, an older one aborted after a younger one, and one
 * producer aborting several times in a row. For testing a reader (or a processor) of a transactional topic:
 * only `committed` may ever come out.
 */
export async function writeInterleavedTransactions(options: InterleavedTransactionsOptions): Promise<void> {
  const suffix = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const kafka = testClient(options.brokers, 'exactly-interleaver');
  const producers: Producer[] = [];
  const open = async (name: string) => {
    const producer = kafka.producer({ transactionalId: `interleaver-${name}-${suffix}`, maxInFlightRequests: 1 });
    await producer.connect();
    producers.push(producer);
    return producer;
  };
  try {
    const [a, b, c] = [await open('a'), await open('b'), await open('c')];
    const aborted = [...options.aborted];
    const take = () => aborted.splice(0, 1);
    const sendTo = async (transaction: { send: Producer['send'] }, messages: Message[]) => {
      if (messages.length > 0)
        await transaction.send({ topic: options.topic, messages: messages.map(at(options.partition)) });
    };
    for (const record of options.committed) {
      const older = await a.transaction(); // opened first, aborted last
      await sendTo(older, take());
      const kept = await b.transaction();
      await sendTo(kept, [record]);
      const younger = await c.transaction();
      await sendTo(younger, take());
      await younger.abort(); // aborted while `older` is still open
      await sendTo(older, take());
      await older.abort(); // older aborted after younger: the broker lists aborts by last offset
      await kept.commit();
    }
    while (aborted.length > 0) {
      const again = await c.transaction(); // one producer aborting again and again
      await sendTo(again, take());
      await again.abort();
    }
  } finally {
    await Promise.all(producers.map((p) => p.disconnect()));
  }
}

const at =
  (partition: number | undefined) =>
  (message: Message): Message => ({ ...message, partition: partition ?? 0 });
