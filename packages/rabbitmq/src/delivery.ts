import type { AnyQueue } from '@exactly/core';
import type { ConsumeMessage } from 'amqplib';

/** A delivered message as the runtime's AmqpDelivery: its id, text headers, and when it was published. */
export function toDelivery(queue: AnyQueue, message: ConsumeMessage, ack: () => boolean) {
  const { properties, fields } = message;
  const raw: Readonly<Record<string, unknown>> = properties.headers ?? {};
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined || value === null) continue;
    headers[name] = Buffer.isBuffer(value)
      ? value.toString('utf8')
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
  }
  const propertyId =
    typeof properties.messageId === 'string' && properties.messageId !== '' ? properties.messageId : undefined;
  return {
    content: message.content,
    messageId:
      propertyId ??
      idFrom(queue, {
        content: message.content,
        messageId: undefined,
        correlationId: typeof properties.correlationId === 'string' ? properties.correlationId : undefined,
        routingKey: fields.routingKey,
        exchange: fields.exchange,
        headers: raw,
      }),
    routingKey: fields.routingKey,
    exchange: fields.exchange,
    redelivered: fields.redelivered,
    headers,
    publishedAt: publishedAt(raw, properties.timestamp),
    ack,
  };
}

/** The queue's own way to name a message without `message_id`; one that throws names none (a dead letter). */
function idFrom(queue: AnyQueue, message: Parameters<NonNullable<AnyQueue['messageId']>>[0]): string | undefined {
  if (!queue.messageId) return undefined;
  try {
    const id = queue.messageId(message);
    return typeof id === 'string' && id !== '' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Milliseconds: a `timestamp_in_ms` header (RabbitMQ's own plugin's name), else the AMQP timestamp (seconds). */
function publishedAt(headers: Readonly<Record<string, unknown>>, timestamp: unknown): number | undefined {
  const inMs = Number(headers.timestamp_in_ms);
  if (Number.isFinite(inMs) && inMs > 0) return inMs;
  return typeof timestamp === 'number' && timestamp > 0 ? timestamp * 1000 : undefined;
}
