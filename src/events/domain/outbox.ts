import type { Queryable } from '../../db/database.js';
import { domainEventsQueue } from '../../engine/queues.js';
import type { PgmqClient } from '../../messaging/pgmq-client.js';
import type { DeliveryMode } from '../../templates/types.js';
import type { DomainEvent } from './envelope.js';

/** Header naming an event's declared delivery mode on the durable queue. */
export const DELIVERY_HEADER = 'tasker_delivery';

/** An event on its way to the namespace queue, with its declared delivery mode. */
export interface PersistedEvent {
  event: DomainEvent;
  delivery: Exclude<DeliveryMode, 'fire_and_forget'>;
}

/**
 * Writes durable and acknowledged events to their namespace's queue (`<ns>_domain_events`)
 * in the caller's transaction: the transactional outbox. They are delivered only if it
 * commits. The message body is the envelope; the delivery mode and trace context travel in
 * the headers, so any pgmq client can read the queue.
 */
export async function persistEvents(
  queue: PgmqClient,
  namespace: string,
  events: readonly PersistedEvent[],
  options: { tx?: Queryable; headers?: Record<string, unknown> } = {},
): Promise<number[]> {
  if (events.length === 0) return [];
  return queue.sendBatch(
    domainEventsQueue(namespace),
    events.map((item) => item.event),
    {
      headers: events.map((item) => ({ ...options.headers, [DELIVERY_HEADER]: item.delivery })),
      ...(options.tx ? { tx: options.tx } : {}),
    },
  );
}
