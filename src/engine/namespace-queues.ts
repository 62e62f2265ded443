import type { Database } from '../db/database.js';
import { PgmqClient } from '../messaging/pgmq-client.js';
import { deadLetterQueue, domainEventsQueue, workerQueue } from './queues.js';

const namespacesWithQueues = new WeakMap<Database, Set<string>>();

/**
 * Creates a namespace's queues: its worker queue (with its statement functions), its domain
 * events queue and that queue's dead-letter queue. Idempotent; done once per process and database.
 */
export async function ensureNamespaceQueues(db: Database, namespace: string): Promise<void> {
  let known = namespacesWithQueues.get(db);
  if (!known) namespacesWithQueues.set(db, (known = new Set()));
  if (known.has(namespace)) return;
  const queue = new PgmqClient(db);
  for (const name of [workerQueue(namespace), domainEventsQueue(namespace), deadLetterQueue(namespace)]) {
    await queue.createQueue(name);
  }
  // The worker queue's statement functions (sql/migrations/0006_hot_paths.sql), made here rather
  // than by the first worker or orchestrator statement that needs them.
  await db.query('SELECT tasker.queue_function($1, $2)', ['send', workerQueue(namespace)]);
  known.add(namespace);
}
