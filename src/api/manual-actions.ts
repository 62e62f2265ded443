import type { Database } from '../db/database.js';
import { TaskerError } from '../errors.js';
import { orchestrate } from '../orchestration/orchestrate.js';
import { lockTask } from '../orchestration/task-lock.js';
import { transition } from '../persistence/transitions.js';
import {
  canTransition as canStepTransition,
  isTerminal as isStepTerminal,
  type StepState,
} from '../state/step-state-machine.js';
import { isTerminal as isTaskTerminal } from '../state/task-state-machine.js';
import { assertTaskUuid } from './tasks.js';

/** Who did it and why, recorded with the transitions. */
export interface ManualActionInfo {
  reason?: string;
  actor?: string;
}

/**
 * Cancels a task and every step that has not finished. A worker still running a step finds
 * it cancelled when it reports, and its result is discarded.
 */
export async function cancelTask(db: Database, taskUuid: string, info: ManualActionInfo = {}): Promise<void> {
  assertTaskUuid(taskUuid);
  await db.transaction(async (tx) => {
    const task = await lockTask(tx, taskUuid);
    if (!task) throw new TaskerError('TASK_NOT_FOUND', `no task ${taskUuid}`);
    if (isTaskTerminal(task.status)) {
      throw new TaskerError(
        'STATE_CONFLICT',
        `task ${taskUuid} is already ${task.status}; it cannot be cancelled`,
      );
    }
    const metadata = { manual: true, ...info };
    // Locked before any history is written: a worker reporting one of them waits for the cancel
    // (and finds its step cancelled) instead of moving it between this read and its transition.
    // In uuid order, as workers lock the steps they report (tasker.report_attempts).
    const steps = await tx.query<{ step_uuid: string; state: StepState }>(
      `SELECT step_uuid, state FROM (
         SELECT step_uuid, state, position FROM tasker.workflow_steps WHERE task_uuid = $1 ORDER BY step_uuid FOR UPDATE
       ) AS locked ORDER BY position`,
      [taskUuid],
    );
    for (const step of steps.rows) {
      if (!isStepTerminal(step.state) && canStepTransition(step.state, 'cancelled')) {
        await transition(tx, { step: step.step_uuid }, step.state, 'cancelled', metadata);
      }
    }
    await transition(tx, { task: taskUuid }, task.status, 'cancelled', metadata);
  });
}

/**
 * Marks a step resolved by hand, with an optional result its dependents receive, then lets
 * the task go on: its dependents become viable and a blocked or failed task is re-evaluated.
 */
export async function resolveStep(
  db: Database,
  taskUuid: string,
  stepName: string,
  result: unknown = null,
  info: ManualActionInfo = {},
): Promise<void> {
  assertTaskUuid(taskUuid);
  await db.transaction(async (tx) => {
    const task = await lockTask(tx, taskUuid);
    if (!task) throw new TaskerError('TASK_NOT_FOUND', `no task ${taskUuid}`);
    const { rows } = await tx.query<{ step_uuid: string; state: StepState }>(
      'SELECT step_uuid, state FROM tasker.workflow_steps WHERE task_uuid = $1 AND name = $2 FOR UPDATE',
      [taskUuid, stepName],
    );
    const step = rows[0];
    if (!step)
      throw new TaskerError('TASK_NOT_FOUND', `task ${taskUuid} has no step ${JSON.stringify(stepName)}`);
    if (!canStepTransition(step.state, 'resolved_manually')) {
      throw new TaskerError(
        'STATE_CONFLICT',
        `step ${stepName} is ${step.state}; it cannot be resolved manually`,
      );
    }
    if (isTaskTerminal(task.status)) {
      throw new TaskerError(
        'STATE_CONFLICT',
        `task ${taskUuid} is ${task.status}; its steps can no longer be resolved`,
      );
    }
    await tx.query('UPDATE tasker.workflow_steps SET result = $2::jsonb WHERE step_uuid = $1', [
      step.step_uuid,
      JSON.stringify(result ?? null),
    ]);
    await transition(tx, { step: step.step_uuid }, step.state, 'resolved_manually', {
      manual: true,
      ...info,
    });
    await orchestrate(tx, [{ kind: 'reevaluate', taskUuid }]);
  });
}
