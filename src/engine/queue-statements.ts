import { ASYNC_COMMIT_COLUMN } from '../db/async-commit.js';
import type { Database, Queryable } from '../db/database.js';

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

/**
 * Archives messages an at-least-once consumer has handled, through the queue's archive function
 * (tasker.archive_queue), committing without waiting for the WAL flush (src/db/async-commit.ts):
 * a server crash may undo the archive, and the messages are then delivered again, which
 * at-least-once allows. Spares the consumer a disk flush per batch, and the flushes of the
 * producers' commits a competitor.
 */
export async function archiveHandled(db: Database, queue: string, ids: readonly number[]): Promise<void> {
  await db.query(`SELECT ${ASYNC_COMMIT_COLUMN}, tasker.archive_queue($1, $2::bigint[])`, [queue, ids]);
}
