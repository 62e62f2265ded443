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
 * Locks tasks for the rest of the transaction, in uuid order so that two orchestrators locking
 * overlapping batches cannot deadlock. Every orchestration change to a task and its steps
 * happens under this lock, so orchestrators take turns instead of racing. With `skipLocked`,
 * tasks another orchestrator holds are left out (a later scan picks them up).
 */
export async function lockTasks(
  tx: Queryable,
  taskUuids: readonly string[],
  options: { skipLocked?: boolean; statuses?: readonly TaskState[] } = {},
): Promise<Map<string, LockedTask>> {
  const { rows } = await tx.query<LockedTask>(
    `SELECT task_uuid, namespace, name, status, traceparent FROM tasker.tasks
      WHERE task_uuid = ANY($1) ${options.statuses ? 'AND status = ANY($2)' : ''}
      ORDER BY task_uuid
      FOR UPDATE ${options.skipLocked ? 'SKIP LOCKED' : ''}`,
    options.statuses ? [taskUuids, options.statuses] : [taskUuids],
  );
  return new Map(rows.map((row) => [row.task_uuid, row]));
}

/** Locks one task; undefined when there is none. */
export async function lockTask(tx: Queryable, taskUuid: string): Promise<LockedTask | undefined> {
  return (await lockTasks(tx, [taskUuid])).get(taskUuid);
}
