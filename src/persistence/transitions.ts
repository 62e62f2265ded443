import type { Queryable } from '../db/database.js';
import { assertTransition as assertStepTransition, type StepState } from '../state/step-state-machine.js';
import { assertTransition as assertTaskTransition, type TaskState } from '../state/task-state-machine.js';

/** Free-form facts recorded with a transition (who, why, which attempt). */
export type TransitionMetadata = Record<string, unknown>;

/**
 * Moves a task from `from` to `to` if it is still in `from` (compare-and-swap), recording the
 * transition. Resolves false when another process changed it first.
 */
export async function transitionTask(
  tx: Queryable,
  taskUuid: string,
  from: TaskState,
  to: TaskState,
  metadata: TransitionMetadata = {},
): Promise<boolean> {
  assertTaskTransition(from, to);
  const { rows } = await tx.query<{ ok: boolean }>(
    'SELECT tasker.transition_task($1, $2, $3, $4::jsonb) AS ok',
    [taskUuid, from, to, JSON.stringify(metadata)],
  );
  return rows[0]?.ok === true;
}

/** Moves a task through several states in order; stops (false) at the first lost race. */
export async function transitionTaskPath(
  tx: Queryable,
  taskUuid: string,
  path: readonly TaskState[],
  metadata: TransitionMetadata = {},
): Promise<boolean> {
  for (let i = 1; i < path.length; i += 1) {
    if (!(await transitionTask(tx, taskUuid, path[i - 1]!, path[i]!, metadata))) return false;
  }
  return true;
}

/** Compare-and-swap of a step's state with its history; false when it was not in `from`. */
export async function transitionStep(
  tx: Queryable,
  stepUuid: string,
  from: StepState,
  to: StepState,
  metadata: TransitionMetadata = {},
): Promise<boolean> {
  assertStepTransition(from, to);
  const { rows } = await tx.query<{ ok: boolean }>(
    'SELECT tasker.transition_step($1, $2, $3, $4::jsonb) AS ok',
    [stepUuid, from, to, JSON.stringify(metadata)],
  );
  return rows[0]?.ok === true;
}
