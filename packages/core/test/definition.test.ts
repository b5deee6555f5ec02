import { describe, expect, it } from 'vitest';
import { defineProcessor, ExactlyConfigError, json, string, topic } from '../src/index.js';

const orders = topic('orders', { value: json<{ id: string }>() });
const shipments = topic('shipments', { value: json<{ orderId: string }>() });

/** Runs `build` and returns the ExactlyConfigError it throws, failing the test if it throws anything else. */
function configError(build: () => unknown): ExactlyConfigError {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(ExactlyConfigError);
    return error as ExactlyConfigError;
  }
  throw new Error('expected an ExactlyConfigError, nothing was thrown');
}

describe('topic()', () => {
  it('defaults the key serde to string() and freezes the topic', () => {
    const t = topic('orders', { value: string() });
    expect(t.key.name).toBe('string');
    expect(t.value.name).toBe('string');
    expect(Object.isFrozen(t)).toBe(true);
  });

  it.each([
    ['', 'non-empty'],
    ['has space', 'not a legal Kafka topic name'],
    ['..', 'not a legal Kafka topic name'],
    ['x'.repeat(250), 'not a legal Kafka topic name'],
  ])('refuses the topic name %j', (name, message) => {
    const error = configError(() => topic(name, { value: string() }));
    expect(error.field).toBe('topic');
    expect(error.message).toContain(message);
  });

  it('requires a value serde, naming the topic', () => {
    const error = configError(() => topic('orders', {} as never));
    expect(error.field).toBe("topic('orders').value");
  });
});

describe('defineProcessor()', () => {
  const valid = { id: 'router', input: orders, outputs: { shipments }, handle: () => undefined };

  it('fills in the defaults', () => {
    const processor = defineProcessor(valid);
    expect(processor.deadLetter).toBe('router.dlq');
    expect(processor.onError).toBe('dead-letter');
    expect(Object.isFrozen(processor)).toBe(true);
  });

  it.each([
    ['an empty id', { id: '' }, 'id', 'non-empty'],
    ['an id with illegal characters', { id: 'a/b' }, 'id', "'a/b' may hold only"],
    ['a missing input', { input: undefined }, 'input', 'must be a topic'],
    ['an input with a bad name', { input: { ...orders, name: 'a b' } }, 'input', 'not a legal'],
    ['no outputs', { outputs: {} }, 'outputs', 'at least one'],
    ['an output that is not a topic', { outputs: { shipments: 'shipments' } }, 'outputs.shipments', 'must be a topic'],
    ['an output equal to the input', { outputs: { back: orders } }, 'outputs.back', 'its own input'],
    [
      'two outputs on one topic',
      { outputs: { a: shipments, b: topic('shipments', { value: string() }) } },
      'outputs.b',
      'already used by outputs.a',
    ],
    ['a dead-letter topic equal to an output', { deadLetter: 'shipments' }, 'deadLetter', 'outputs.shipments'],
    ['a dead-letter topic equal to the input', { deadLetter: 'orders' }, 'deadLetter', 'already used by input'],
    ['an illegal dead-letter name', { deadLetter: 'a b' }, 'deadLetter', 'not a legal'],
    ['a handler that is not a function', { handle: 'nope' }, 'handle', 'must be a function'],
    ['an unknown onError', { onError: 'ignore' }, 'onError', "got 'ignore'"],
  ])('refuses %s, naming the field', (_, change, field, message) => {
    const error = configError(() => defineProcessor({ ...valid, ...change } as never));
    expect(error.field).toBe(field);
    expect(error.message).toContain(message);
    expect(error.message.startsWith(`${field}: `)).toBe(true);
  });
});
