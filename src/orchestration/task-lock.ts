import type { Queryable } from '../db/database.js';
import type { TaskState } from '../state/task-state-machine.js';

/** A task row held locked for the rest of a transaction. */
export interface LockedTask {
  task_uuid: string;
  namespace: string;
  status: TaskState;
}

/**
 * Locks one task for an operator action (cancel, manual resolution): the same row lock
 * tasker.orchestrate takes, so an orchestrator and an operator take turns instead of racing.
 * Undefined when there is no such task.
 */
export async function lockTask(tx: Queryable, taskUuid: string): Promise<LockedTask | undefined> {
  const { rows } = await tx.query<LockedTask>(
    'SELECT task_uuid, namespace, status FROM tasker.tasks WHERE task_uuid = $1 FOR UPDATE',
    [taskUuid],
  );
  return rows[0];
}
