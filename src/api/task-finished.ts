import type { Database } from '../db/database.js';
import { TaskerError } from '../errors.js';
import { loadTaskView, type TaskView } from '../persistence/task-store.js';

/** Channel on which the database announces each task reaching a final state (payload: uuid). */
export const TASK_FINISHED_CHANNEL = 'tasker_task_finished';

const FINAL_STATES = new Set(['complete', 'error', 'cancelled', 'resolved_manually']);

/**
 * Resolves with the task once it reaches a final state. Woken by NOTIFY at the commit that
 * finished it; a slow poll covers notifications missed while reconnecting.
 */
export async function waitForTask(
  db: Database,
  taskUuid: string,
  options: { timeoutMs?: number; pollIntervalMs?: number } = {},
): Promise<TaskView> {
  let wake: () => void = () => undefined;
  const unlisten = await db.listen(TASK_FINISHED_CHANNEL, (payload) => {
    if (payload === taskUuid) wake();
  });
  const deadline = Date.now() + (options.timeoutMs ?? 300_000);
  try {
    for (;;) {
      const woken = new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, options.pollIntervalMs ?? 1000).unref();
      });
      const task = await loadTaskView(db, taskUuid);
      if (!task) throw new TaskerError('TASK_NOT_FOUND', `no task ${taskUuid}`);
      if (FINAL_STATES.has(task.status)) return task;
      if (Date.now() > deadline) {
        throw new TaskerError(
          'TIMEOUT',
          `task ${taskUuid} is still ${task.status} after ${options.timeoutMs}ms`,
        );
      }
      await woken;
    }
  } finally {
    await unlisten();
  }
}
