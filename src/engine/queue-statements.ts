import { ASYNC_COMMIT_COLUMN } from '../db/async-commit.js';
import type { Database, Queryable } from '../db/database.js';
import { toMessage, type MessageRow, type QueueMessage } from '../messaging/pgmq-client.js';
import { assertQueueName } from '../messaging/queue-names.js';

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
 * A queue's statement function, called by name: one dynamic call (tasker.read_queue,
 * tasker.archive_queue) less per statement. The queue must have its functions
 * (ensureQueueStatements, done wherever queues are created); a valid queue name is a valid
 * function name.
 */
function statementFunction(op: 'read' | 'archive', queue: string): string {
  assertQueueName(queue);
  return `tasker.${op}__${queue}`;
}

/**
 * Archives messages an at-least-once consumer has handled, through the queue's archive function
 * (tasker.archive__<queue>), committing without waiting for the WAL flush (src/db/async-commit.ts):
 * a server crash may undo the archive, and the messages are then delivered again, which
 * at-least-once allows. Spares the consumer a disk flush per batch, and the flushes of the
 * producers' commits a competitor.
 */
export async function archiveHandled(db: Database, queue: string, ids: readonly number[]): Promise<void> {
  await db.query(`SELECT ${ASYNC_COMMIT_COLUMN}, ${statementFunction('archive', queue)}($1::bigint[])`, [
    ids,
  ]);
}

/**
 * Reads a queue as `pgmq.read` would, through the queue's own read function
 * (sql/migrations/0008_event_routing.sql): a statement planned once per connection, where pgmq's
 * read plans its dynamic SQL on every call (the orchestrator reads the step results queue once
 * per step, a subscriber its queue once per event at low rates). Commits without waiting for the
 * WAL flush, as PgmqClient.read does: a crash can only make the messages visible again sooner.
 */
export async function readQueue<T>(
  db: Database,
  queue: string,
  visibilityTimeoutSeconds: number,
  qty: number,
): Promise<QueueMessage<T>[]> {
  const { rows } = await db.query<MessageRow>(
    `SELECT ${ASYNC_COMMIT_COLUMN}, msg_id, read_ct, enqueued_at, vt, message, headers FROM ${statementFunction('read', queue)}($1, $2) ORDER BY msg_id`,
    [visibilityTimeoutSeconds, qty],
  );
  return rows.map((row) => toMessage<T>(row));
}
