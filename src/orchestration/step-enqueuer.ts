import type { Queryable } from '../db/database.js';
import { workerQueue, type StepMessage } from '../engine/queues.js';
import type { PgmqClient } from '../messaging/pgmq-client.js';
import { transitionStep } from '../persistence/transitions.js';
import type { StepState } from '../state/step-state-machine.js';
import type { LockedTask } from './task-lock.js';

/** A step of a task with whether it can run now. */
export interface StepRow {
  step_uuid: string;
  name: string;
  state: StepState;
  attempts: number;
  viable: boolean;
}

/**
 * Every step of the task with its viability decided in SQL: pending, or waiting for a retry
 * whose backoff has elapsed, and every parent complete or resolved manually.
 */
export async function loadSteps(tx: Queryable, taskUuid: string): Promise<StepRow[]> {
  const { rows } = await tx.query<StepRow>(
    `SELECT s.step_uuid, s.name, s.state, s.attempts,
            (s.state = 'pending' OR (s.state = 'waiting_for_retry' AND s.next_attempt_at <= now()))
            AND NOT EXISTS (
              SELECT 1 FROM tasker.workflow_step_edges e
                JOIN tasker.workflow_steps p ON p.step_uuid = e.from_step_uuid
               WHERE e.to_step_uuid = s.step_uuid AND p.state NOT IN ('complete', 'resolved_manually')
            ) AS viable
       FROM tasker.workflow_steps s
      WHERE s.task_uuid = $1
      ORDER BY s.position`,
    [taskUuid],
  );
  return rows;
}

/**
 * Marks the viable steps enqueued and sends them to the namespace's worker queue, in the
 * caller's transaction (which holds the task lock): a step attempt is enqueued exactly once.
 */
export async function enqueueSteps(
  tx: Queryable,
  queue: PgmqClient,
  task: LockedTask,
  steps: readonly StepRow[],
): Promise<StepRow[]> {
  const enqueued: StepRow[] = [];
  for (const step of steps) {
    if (await transitionStep(tx, step.step_uuid, step.state, 'enqueued', { attempt: step.attempts + 1 })) {
      enqueued.push(step);
    }
  }
  if (enqueued.length > 0) {
    const messages: StepMessage[] = enqueued.map((step) => ({
      task_uuid: task.task_uuid,
      step_uuid: step.step_uuid,
      step_name: step.name,
    }));
    await queue.sendBatch(workerQueue(task.namespace), messages, {
      // Every step attempt joins the task's trace (W3C trace context in the message headers).
      headers: messages.map(() => (task.traceparent ? { traceparent: task.traceparent } : {})),
      tx,
    });
  }
  return enqueued;
}
