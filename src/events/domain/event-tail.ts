import type { Database } from '../../db/database.js';
import { domainEventsQueue } from '../../engine/queues.js';
import { notificationChannel } from '../../messaging/pgmq-client.js';
import { assertQueueName } from '../../messaging/queue-names.js';
import type { DomainEvent } from './envelope.js';
import { publishedChannel } from './outbox.js';
import { compilePattern } from './patterns.js';

/** Options of {@link tailEvents}. */
export interface TailOptions {
  namespaces: readonly string[];
  /** Only events whose name matches (default `#`). */
  pattern?: string;
  /** Start with the events already persisted instead of only new ones. */
  fromStart?: boolean;
  pollIntervalMs?: number;
  signal: AbortSignal;
}

/**
 * Reads persisted events in place (queue and archive tables of the namespace queue), so
 * watching takes nothing away from consumers.
 */
async function eventsAfter(
  db: Database,
  namespace: string,
  after: number,
): Promise<Array<{ msgId: number; event: DomainEvent }>> {
  const queue = domainEventsQueue(namespace);
  assertQueueName(queue);
  const { rows } = await db.query<{ msg_id: number; message: DomainEvent }>(
    `SELECT msg_id, message FROM pgmq."q_${queue}" WHERE msg_id > $1
     UNION ALL
     SELECT msg_id, message FROM pgmq."a_${queue}" WHERE msg_id > $1
     ORDER BY msg_id LIMIT 1000`,
    [after],
  );
  return rows.map((row) => ({ msgId: row.msg_id, event: row.message }));
}

async function lastMsgId(db: Database, namespace: string): Promise<number> {
  const queue = domainEventsQueue(namespace);
  assertQueueName(queue);
  const { rows } = await db.query<{ last: number | null }>(
    `SELECT greatest((SELECT max(msg_id) FROM pgmq."q_${queue}"), (SELECT max(msg_id) FROM pgmq."a_${queue}")) AS last`,
  );
  return rows[0]?.last ?? 0;
}

/**
 * Calls `onEvent` for each durable or acknowledged event persisted in the namespaces, as it
 * arrives (woken by NOTIFY), until the signal aborts. Fire-and-forget events never
 * leave the publishing process and cannot be tailed.
 */
export async function tailEvents(
  db: Database,
  options: TailOptions,
  onEvent: (event: DomainEvent) => void,
): Promise<void> {
  const matches = compilePattern(options.pattern ?? '#');
  const cursors = new Map<string, number>();
  for (const namespace of options.namespaces) {
    cursors.set(namespace, options.fromStart ? 0 : await lastMsgId(db, namespace));
  }
  let wake: () => void = () => undefined;
  // Events routed as they are published are announced on their own channel; those that wait for
  // a router in the namespace queue, on the queue's.
  const channels = options.namespaces.flatMap((namespace) => [
    publishedChannel(namespace),
    notificationChannel(domainEventsQueue(namespace)),
  ]);
  const unlisteners = await Promise.all(channels.map((channel) => db.listen(channel, () => wake())));
  try {
    while (!options.signal.aborted) {
      const woken = new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, options.pollIntervalMs ?? 1000);
        options.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      for (const namespace of options.namespaces) {
        for (const { msgId, event } of await eventsAfter(db, namespace, cursors.get(namespace)!)) {
          cursors.set(namespace, msgId);
          if (matches(event.name)) onEvent(event);
        }
      }
      await woken;
    }
  } finally {
    await Promise.all(unlisteners.map((unlisten) => unlisten()));
  }
}
