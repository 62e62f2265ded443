import type { Queryable } from '../db/database.js';
import { assertTransition as assertStepTransition, type StepState } from '../state/step-state-machine.js';

/** Free-form facts recorded with a transition (who, why, which attempt). */
export type TransitionMetadata = Record<string, unknown>;

/**
 * Compare-and-swap of a step's state with its history (tasker.transition_step), checked
 * against the step state machine first; false when the step was no longer in `from`. The
 * engine's hot paths make their transitions inside SQL functions (sql/migrations/0006); this
 * is for operator actions (cancel, manual resolution).
 */
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
