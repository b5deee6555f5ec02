/** A small seeded generator (mulberry32): the same seed gives the same chaos schedule. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type ChaosEvent =
  | 'kill'
  | 'zombie'
  | 'broker-kill'
  | 'restart'
  /** A SIGKILL between PREPARE and Kafka's commit, or between Kafka's commit and COMMIT PREPARED (--postgres). */
  | 'phase-kill'
  /** PostgreSQL stopped at once (no checkpoint), then started again (--postgres). */
  | 'postgres-crash'
  /** The RabbitMQ node SIGKILLed, then started again on its data (--rabbitmq). */
  | 'rabbitmq-kill';

/** The events of a run, in a seeded order, each with the pause before it (ms). */
export function schedule<E extends ChaosEvent>(
  random: () => number,
  counts: Readonly<Record<E, number>>,
): Array<{ event: E; pauseMs: number }> {
  const events: E[] = [];
  for (const [event, count] of Object.entries(counts) as Array<[E, number]>) {
    for (let i = 0; i < count; i++) events.push(event);
  }
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [events[i], events[j]] = [events[j] as E, events[i] as E];
  }
  return events.map((event) => ({ event, pauseMs: 200 + Math.floor(random() * 1300) }));
}
