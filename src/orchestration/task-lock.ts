import type { Queryable } from '../db/database.js';
import type { TaskState } from '../state/task-state-machine.js';

/** The task row an orchestrator holds while it decides what happens next. */
export interface LockedTask {
  task_uuid: string;
  namespace: string;
  name: string;
  status: TaskState;
  /** The task span's trace context, handed on to every step message. */
  traceparent: string | null;
}

/**
 * Locks a task for the rest of the transaction. Every orchestration change to a task and its
 * steps happens under this lock, so two orchestrators take turns instead of racing.
 */
export async function lockTask(tx: Queryable, taskUuid: string): Promise<LockedTask | undefined> {
  const { rows } = await tx.query<LockedTask>(
    'SELECT task_uuid, namespace, name, status, traceparent FROM tasker.tasks WHERE task_uuid = $1 FOR UPDATE',
    [taskUuid],
  );
  return rows[0];
}
