import type { Queryable } from '../db/database.js';
import { toMessage, type MessageRow, type QueueMessage } from '../messaging/pgmq-client.js';

/**
 * Reads the step results queue as `pgmq.read` would, through tasker.read_step_results: a static
 * statement, planned once per connection, where pgmq's read plans its dynamic SQL on every call
 * (the orchestrator reads this queue once per step).
 */
export async function readStepResults<T>(
  db: Queryable,
  visibilityTimeoutSeconds: number,
  qty: number,
): Promise<QueueMessage<T>[]> {
  const { rows } = await db.query<MessageRow>(
    'SELECT msg_id, read_ct, enqueued_at, vt, message, headers FROM tasker.read_step_results($1, $2) ORDER BY msg_id',
    [visibilityTimeoutSeconds, qty],
  );
  return rows.map((row) => toMessage<T>(row));
}
