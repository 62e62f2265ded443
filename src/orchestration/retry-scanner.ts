import type { Database } from '../db/database.js';
import type { PgmqClient } from '../messaging/pgmq-client.js';
import type { TaskState } from '../state/task-state-machine.js';
import { evaluateTask, TaskMover, type EvaluationOutcome } from './task-evaluator.js';
import type { LockedTask } from './task-lock.js';

/** Task states in which a step may be waiting for its retry backoff to elapse. */
const RETRY_WAITING_STATES: readonly TaskState[] = [
  'waiting_for_retry',
  'waiting_for_dependencies',
  'steps_in_process',
];

/**
 * Re-evaluates tasks that have a step whose retry backoff has elapsed, so the step is
 * enqueued again. Tasks another orchestrator is working on are skipped (SKIP LOCKED) and
 * picked up on a later scan. Resolves to the evaluations made, for telemetry.
 */
export async function enqueueDueRetries(
  db: Database,
  queue: PgmqClient,
  limit = 100,
): Promise<Array<{ taskUuid: string; outcome: EvaluationOutcome }>> {
  const due = await db.query<{ task_uuid: string }>(
    `SELECT DISTINCT task_uuid FROM tasker.workflow_steps
      WHERE state = 'waiting_for_retry' AND next_attempt_at <= now() LIMIT $1`,
    [limit],
  );
  const done: Array<{ taskUuid: string; outcome: EvaluationOutcome }> = [];
  for (const { task_uuid: taskUuid } of due.rows) {
    const outcome = await db.transaction(async (tx) => {
      const { rows } = await tx.query<LockedTask>(
        `SELECT task_uuid, namespace, name, status, traceparent FROM tasker.tasks
          WHERE task_uuid = $1 AND status = ANY($2) FOR UPDATE SKIP LOCKED`,
        [taskUuid, RETRY_WAITING_STATES],
      );
      const task = rows[0];
      if (!task) return undefined;
      return evaluateTask(tx, queue, new TaskMover(tx, task));
    });
    if (outcome) done.push({ taskUuid, outcome });
  }
  return done;
}
