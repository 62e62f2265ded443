import type { Queryable } from '../../db/database.js';
import { domainEventsQueue } from '../../engine/queues.js';
import { assertQueueName } from '../../messaging/queue-names.js';
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
 * on `db`, usually the caller's transaction: the transactional outbox. They are delivered only if
 * it commits. The message body is the envelope; the delivery mode and trace context travel in
 * the headers, so any pgmq client can read the queue. Sent through the queue's send function
 * (tasker.send_queue: pgmq's send_batch with the queue's NOTIFY, planned once per connection).
 * @returns the new message ids, in the order of `events`.
 */
export async function persistEvents(
  db: Queryable,
  namespace: string,
  events: readonly PersistedEvent[],
  options: { headers?: Record<string, unknown> } = {},
): Promise<number[]> {
  if (events.length === 0) return [];
  const queue = domainEventsQueue(namespace);
  assertQueueName(queue);
  // Ids come from the queue's sequence in insertion order: sorted, they follow `events`.
  const { rows } = await db.query<{ id: number }>(
    'SELECT id FROM tasker.send_queue($1, $2::jsonb[], $3::jsonb[]) AS id ORDER BY id',
    [
      queue,
      events.map((item) => JSON.stringify(item.event)),
      events.map((item) => JSON.stringify({ ...options.headers, [DELIVERY_HEADER]: item.delivery })),
    ],
  );
  return rows.map((row) => Number(row.id));
}
