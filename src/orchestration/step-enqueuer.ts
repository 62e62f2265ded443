import type { Queryable } from '../db/database.js';
import type { StepState } from '../state/step-state-machine.js';

/** A step of a task with whether it can run now. */
export interface StepRow {
  task_uuid: string;
  step_uuid: string;
  name: string;
  state: StepState;
  attempts: number;
  viable: boolean;
}

/**
 * Every step of the tasks, by task, in template order, with viability decided in SQL: pending,
 * or waiting for a retry whose backoff has elapsed, and every parent complete or resolved manually.
 */
export async function loadSteps(
  tx: Queryable,
  taskUuids: readonly string[],
): Promise<Map<string, StepRow[]>> {
  const { rows } = await tx.query<StepRow>(
    `SELECT s.task_uuid, s.step_uuid, s.name, s.state, s.attempts,
            (s.state = 'pending' OR (s.state = 'waiting_for_retry' AND s.next_attempt_at <= now()))
            AND NOT EXISTS (
              SELECT 1 FROM tasker.workflow_step_edges e
                JOIN tasker.workflow_steps p ON p.step_uuid = e.from_step_uuid
               WHERE e.to_step_uuid = s.step_uuid AND p.state NOT IN ('complete', 'resolved_manually')
            ) AS viable
       FROM tasker.workflow_steps s
      WHERE s.task_uuid = ANY($1)
      ORDER BY s.task_uuid, s.position`,
    [taskUuids],
  );
  const byTask = new Map<string, StepRow[]>();
  for (const row of rows) {
    let steps = byTask.get(row.task_uuid);
    if (!steps) byTask.set(row.task_uuid, (steps = []));
    steps.push(row);
  }
  return byTask;
}
