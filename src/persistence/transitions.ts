import type { Queryable } from '../db/database.js';
import { assertTransition as assertStepTransition, type StepState } from '../state/step-state-machine.js';
import { assertTransition as assertTaskTransition, type TaskState } from '../state/task-state-machine.js';

/** Free-form facts recorded with a transition (who, why, which attempt). */
export type TransitionMetadata = Record<string, unknown>;

/**
 * Compare-and-swap of a task's or step's state with its history (tasker.transition_task /
 * tasker.transition_step), checked against the state machine first; false when it was no
 * longer in `from`. The engine's own moves happen inside SQL functions (sql/migrations/0006,
 * 0007); this is for operator actions (cancel, manual resolution).
 */
export async function transition(
  tx: Queryable,
  subject: { task: string } | { step: string },
  from: TaskState | StepState,
  to: TaskState | StepState,
  metadata: TransitionMetadata = {},
): Promise<boolean> {
  const isTask = 'task' in subject;
  if (isTask) assertTaskTransition(from as TaskState, to as TaskState);
  else assertStepTransition(from as StepState, to as StepState);
  const { rows } = await tx.query<{ ok: boolean }>(
    `SELECT tasker.${isTask ? 'transition_task' : 'transition_step'}($1, $2, $3, $4::jsonb) AS ok`,
    [isTask ? subject.task : subject.step, from, to, JSON.stringify(metadata)],
  );
  return rows[0]?.ok === true;
}
