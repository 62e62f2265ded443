import { TASK_FINISHED_CHANNEL } from '../src/api/task-finished.js';
import type { Database } from '../src/db/database.js';
import { FINAL_TASK_STATES } from '../src/telemetry/task-span-events.js';

const POLL_MS = 1_000;

/**
 * Resolves once every task of `taskUuids` reached a final state, and checks that each one is
 * complete. Counts the database's task-finished notifications instead of loading each task as
 * it finishes (waitForTask): a throughput benchmark must not spend the CPU it measures on
 * watching. One query when the listening begins finds the tasks that finished before it; a poll
 * every second covers notifications missed while reconnecting.
 */
export async function waitForAllTasks(
  db: Database,
  taskUuids: readonly string[],
  timeoutMs = 600_000,
): Promise<void> {
  const pending = new Set(taskUuids);
  let wake: () => void = () => undefined;
  const unlisten = await db.listen(TASK_FINISHED_CHANNEL, (payload) => {
    if (pending.delete(payload) && pending.size === 0) wake();
  });
  const deadline = Date.now() + timeoutMs;
  try {
    // First the tasks that finished before the listening began, then at every poll.
    for (;;) {
      const { rows } = await db.query<{ task_uuid: string }>(
        'SELECT task_uuid FROM tasker.tasks WHERE task_uuid = ANY ($1::uuid[]) AND status = ANY ($2)',
        [[...pending], FINAL_TASK_STATES],
      );
      for (const row of rows) pending.delete(row.task_uuid);
      if (pending.size === 0) break;
      if (Date.now() > deadline) {
        throw new Error(`${pending.size} of ${taskUuids.length} tasks unfinished after ${timeoutMs} ms`);
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, POLL_MS).unref();
      });
      if (pending.size === 0) break;
    }
  } finally {
    await unlisten();
  }
  const { rows } = await db.query<{ status: string; count: number }>(
    'SELECT status, count(*)::int AS count FROM tasker.tasks WHERE task_uuid = ANY ($1::uuid[]) GROUP BY status',
    [taskUuids],
  );
  const notComplete = rows.filter((row) => row.status !== 'complete');
  if (notComplete.length > 0) {
    throw new Error(
      `tasks that did not complete: ${notComplete.map((row) => `${row.count} ${row.status}`).join(', ')}`,
    );
  }
}
