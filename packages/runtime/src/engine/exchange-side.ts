import type { ExchangeMessage, RawRecord } from '@exactly/core';
import type { AmqpPort } from '../port/amqp.js';
import { ClientError, type ErrorKind } from '../port/errors.js';
import type { HandledRecord } from './batch-work.js';
import type { EngineContext } from './context.js';
import { crashPoint } from './crash-points.js';
import type { TransactionParticipant } from './state.js';

/**
 * A batch's exchange messages as a participant of its transaction: published with publisher confirms in phase 1c
 * (before Kafka's commit, the decision), so that a committed batch's messages are with the broker. A batch that
 * then aborts (or is redone after a crash) publishes them again with the same ids: at least once into the
 * exchange, with stable ids; exactly once for a consumer that de-duplicates on the id.
 * A message no queue took (unroutable) makes its input a dead letter on the redo, as a refused output does.
 */
export function exchangeParticipant(
  ctx: EngineContext,
  amqp: AmqpPort,
  handled: readonly HandledRecord[],
  refuse: (input: RawRecord, reason: string) => void,
): TransactionParticipant | undefined {
  const messages: ExchangeMessage[] = [];
  const inputs: RawRecord[] = [];
  for (const one of handled) {
    for (const message of one.messages) {
      messages.push(message);
      inputs.push(one.input);
    }
  }
  if (messages.length === 0) return undefined;
  return {
    records: () => [],
    hasOwnWork: () => true,
    prepare: async () => {
      try {
        await amqp.publish(messages);
      } catch (error) {
        const index = (error as { index?: unknown }).index;
        const input = typeof index === 'number' ? inputs[index] : undefined;
        const failure = asClientError(error);
        if (failure.kind === 'refused' && input) refuse(input, failure.message);
        throw failure;
      }
      ctx.metrics.exchangeMessagesPublished.inc(messages.length);
      crashPoint('prepared');
    },
    committed: () => {},
    aborted: () => {},
    inDoubt: () => {},
  };
}

/** A broker error as the engine's kinds: what the adapter did not classify is abortable (redo the batch). */
function asClientError(error: unknown): ClientError {
  if (error instanceof ClientError) return error;
  const kind = (error as { kind?: unknown }).kind;
  const known: readonly ErrorKind[] = ['fatal', 'refused', 'retriable'];
  const message = error instanceof Error ? error.message : String(error);
  return new ClientError(
    known.includes(kind as ErrorKind) ? (kind as ErrorKind) : 'abortable',
    'RABBITMQ',
    `RabbitMQ: ${message}`,
    { cause: error },
  );
}
