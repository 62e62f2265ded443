import type { Database } from '../db/database.js';
import { PgmqClient } from '../messaging/pgmq-client.js';
import { ensureQueueStatements } from './queue-statements.js';
import { deadLetterQueue, domainEventsQueue, workerQueue } from './queues.js';

const namespacesWithQueues = new WeakMap<Database, Set<string>>();

/**
 * Creates a namespace's queues: its worker queue and its domain events queue (each with its
 * statement functions, which the workers and the event router call), the domain events'
 * dead-letter queue, and the function that publishes its durable events
 * (tasker.publish__<namespace>). Idempotent; done once per process and database.
 */
export async function ensureNamespaceQueues(db: Database, namespace: string): Promise<void> {
  let known = namespacesWithQueues.get(db);
  if (!known) namespacesWithQueues.set(db, (known = new Set()));
  if (known.has(namespace)) return;
  const queue = new PgmqClient(db);
  for (const name of [workerQueue(namespace), domainEventsQueue(namespace), deadLetterQueue(namespace)]) {
    await queue.createQueue(name);
  }
  await ensureQueueStatements(db, workerQueue(namespace));
  await ensureQueueStatements(db, domainEventsQueue(namespace));
  await db.query('SELECT tasker.ensure_publish_statement($1)', [namespace]);
  known.add(namespace);
}
