import { ASYNC_COMMIT_COLUMN } from '../db/async-commit.js';
import type { Database } from '../db/database.js';
import { toMessage, type MessageRow, type QueueMessage } from '../messaging/pgmq-client.js';

/**
 * Reads one of the engine's queues as `pgmq.read` would, through the queue's own read function
 * (tasker.read_queue, sql/migrations/0006_hot_paths.sql): a statement planned once per
 * connection, where pgmq's read plans its dynamic SQL on every call (the orchestrator reads the
 * step results queue once per step). Commits without waiting for the WAL flush, as
 * PgmqClient.read does: a crash can only make the messages visible again sooner.
 */
export async function readEngineQueue<T>(
  db: Database,
  queue: string,
  visibilityTimeoutSeconds: number,
  qty: number,
): Promise<QueueMessage<T>[]> {
  const { rows } = await db.query<MessageRow>(
    `SELECT ${ASYNC_COMMIT_COLUMN}, msg_id, read_ct, enqueued_at, vt, message, headers FROM tasker.read_queue($1, $2, $3) ORDER BY msg_id`,
    [queue, visibilityTimeoutSeconds, qty],
  );
  return rows.map((row) => toMessage<T>(row));
}
