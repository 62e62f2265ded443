import type { Database } from '../../db/database.js';
import { domainEventsQueue } from '../../engine/queues.js';
import type { PgmqClient, QueueMessage } from '../../messaging/pgmq-client.js';
import { startQueueConsumer, type QueueConsumer } from '../../messaging/queue-consumer.js';
import { loadDurableSubscriptions } from './durable-subscriptions.js';
import type { DomainEvent } from './envelope.js';
import { compilePattern, type EventNameMatcher } from './patterns.js';

/** Header naming the subscriber a routed copy is for. */
export const SUBSCRIBER_HEADER = 'tasker_subscriber';

/** Options of {@link startEventRouter}. */
export interface EventRouterOptions {
  db: Database;
  queue: PgmqClient;
  namespace: string;
  batchSize: number;
  visibilityTimeoutSeconds: number;
  pollIntervalMs: number;
}

const matchers = new Map<string, EventNameMatcher>();

function matcher(pattern: string): EventNameMatcher {
  let found = matchers.get(pattern);
  if (!found) matchers.set(pattern, (found = compilePattern(pattern)));
  return found;
}

/**
 * Copies a batch of events from the namespace queue into the queue of every subscription
 * matching each, and archives the originals, in one transaction: an event is routed to all
 * its subscribers or to none. Subscriptions are read in that transaction, so one registered
 * before it commits is never skipped.
 */
export async function routeEvents(
  db: Database,
  queue: PgmqClient,
  namespace: string,
  messages: readonly QueueMessage<DomainEvent>[],
): Promise<number> {
  return db.transaction(async (tx) => {
    const subscriptions = await loadDurableSubscriptions(tx, namespace);
    let copies = 0;
    for (const subscription of subscriptions) {
      const matches = matcher(subscription.pattern);
      const targets = messages.filter((message) => matches(message.message.name));
      if (targets.length === 0) continue;
      await queue.sendBatch(
        subscription.queue_name,
        targets.map((message) => message.message),
        {
          headers: targets.map((message) => ({
            ...message.headers,
            [SUBSCRIBER_HEADER]: subscription.subscriber_id,
          })),
          tx,
        },
      );
      copies += targets.length;
    }
    await queue.archive(
      domainEventsQueue(namespace),
      messages.map((message) => message.msgId),
      tx,
    );
    return copies;
  });
}

/** Routes a namespace's events as they arrive; any number of routers may compete. */
export function startEventRouter(options: EventRouterOptions): Promise<QueueConsumer> {
  return startQueueConsumer<DomainEvent>({
    db: options.db,
    client: options.queue,
    queue: domainEventsQueue(options.namespace),
    batchSize: options.batchSize,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
    pollIntervalMs: options.pollIntervalMs,
    handle: async (messages) => {
      await routeEvents(options.db, options.queue, options.namespace, messages);
    },
  });
}
