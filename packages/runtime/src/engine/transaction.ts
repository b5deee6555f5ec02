import type { PartitionOffset, TransactionalProducerPort, TransactionPort } from '../port/client.js';
import type { BatchWork } from './batch-work.js';
import type { EngineContext } from './context.js';

/** A transactional producer, initialised: its InitProducerId fences every earlier producer of the id. */
export async function openProducer(ctx: EngineContext, transactionalId: string): Promise<TransactionalProducerPort> {
  const producer = ctx.adapter.producer({
    transactionalId,
    transactionTimeoutMs: ctx.transactionTimeoutMs,
    maxRequestBytes: ctx.maxRequestBytes,
  });
  try {
    await producer.init();
  } catch (error) {
    await producer.close();
    throw error;
  }
  return producer;
}

/**
 * One transaction: the outputs, then the offsets, then commit. A failure before the commit aborts it. When even
 * the abort fails, or the commit's outcome is unknown, `lost` is called: the producer must not be used again,
 * and a new one's InitProducerId completes or aborts what it left, before offsets are read again.
 */
export async function runTransaction(
  producer: TransactionalProducerPort,
  groupId: string,
  work: Pick<BatchWork, 'outputs'>,
  offsets: readonly PartitionOffset[],
  lost: () => Promise<void> | void,
): Promise<void> {
  let transaction: TransactionPort | undefined;
  try {
    transaction = await producer.begin();
    if (work.outputs.length > 0) await transaction.send(work.outputs);
    await transaction.sendOffsets(groupId, offsets);
  } catch (error) {
    if (transaction) await transaction.abort().catch(() => lost());
    throw error;
  }
  try {
    await transaction.commit();
  } catch (error) {
    await lost();
    throw error;
  }
}
