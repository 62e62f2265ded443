import type { Queryable } from '../../db/database.js';
import { domainEventsQueue } from '../../engine/queues.js';
import { errorCode, TaskerError } from '../../errors.js';
import { assertQueueName } from '../../messaging/queue-names.js';
import type { DeliveryMode } from '../../templates/types.js';
import type { DomainEvent } from './envelope.js';

/** SQLSTATE of a call to a function that does not exist. */
const UNDEFINED_FUNCTION = '42883';

/** Header naming an event's declared delivery mode on the durable queue. */
export const DELIVERY_HEADER = 'tasker_delivery';

/**
 * The channel notified when events of a namespace are published and routed at once (they never
 * pass through the namespace queue, whose channel wakes its routers): what watchers listen to.
 */
export function publishedChannel(namespace: string): string {
  assertQueueName(domainEventsQueue(namespace));
  return `tasker_published_${namespace}`;
}

/** An event on its way to its subscribers, with its declared delivery mode. */
export interface PersistedEvent {
  event: DomainEvent;
  delivery: Exclude<DeliveryMode, 'fire_and_forget'>;
}

/**
 * Publishes durable and acknowledged events of a namespace on `db`, usually the caller's
 * transaction: the transactional outbox. They are delivered only if it commits. The namespace's
 * queues must exist (ensureNamespaceQueues, as every worker and consumer does). In the same
 * statement (tasker.publish__<namespace>, sql/migrations/0012_publish_routing.sql) each event is
 * copied into the queue of every durable subscription whose pattern matches it (subscribers are
 * woken by its NOTIFY at commit) and recorded in the archive of the namespace queue
 * (`<ns>_domain_events`); while the namespace has no subscription, the events wait in the
 * namespace queue itself for a router. The message body is the envelope; the delivery mode and
 * trace context travel in the headers, so any pgmq client can read the queues.
 * @returns the events' ids in the namespace queue, in the order of `events`.
 */
export async function persistEvents(
  db: Queryable,
  namespace: string,
  events: readonly PersistedEvent[],
  options: { headers?: Record<string, unknown> } = {},
): Promise<number[]> {
  if (events.length === 0) return [];
  // A valid queue name makes a valid function name: lowercase letters, digits and underscores.
  assertQueueName(domainEventsQueue(namespace));
  const { rows } = await db
    .query<{ id: number }>(
      `SELECT id FROM tasker.publish__${namespace}($1::jsonb[], $2::jsonb[]) AS id ORDER BY id`,
      [
        events.map((item) => JSON.stringify(item.event)),
        events.map((item) => JSON.stringify({ ...options.headers, [DELIVERY_HEADER]: item.delivery })),
      ],
    )
    .catch((error: unknown) => {
      const missing =
        errorCode(error) === UNDEFINED_FUNCTION &&
        error instanceof Error &&
        error.message.includes(`publish__${namespace}`);
      if (!missing) throw error;
      throw new TaskerError(
        'QUEUE_NOT_FOUND',
        `cannot publish in namespace ${namespace}: its queues do not exist yet (tasker.publish__${namespace} is missing); create them with ensureNamespaceQueues(db, '${namespace}'), as workers and event consumers do when they start`,
        { cause: error },
      );
    });
  return rows.map((row) => Number(row.id));
}
