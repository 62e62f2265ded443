import type { Queryable } from '../db/database.js';

/**
 * Creates a queue's statement functions (tasker.send__<queue>, read__, archive__, hide__: see
 * sql/migrations/0006_hot_paths.sql and 0008_event_routing.sql) unless it has them. Called when
 * the queue is created, so that they are not first made inside a busy transaction that calls
 * them (tasker.queue_function would make them there, under a lock another such transaction may
 * wait on).
 */
export async function ensureQueueStatements(db: Queryable, queue: string): Promise<void> {
  await db.query('SELECT tasker.queue_function($1, $2)', ['send', queue]);
}
