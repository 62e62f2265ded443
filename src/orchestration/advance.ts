import type { Queryable } from '../db/database.js';
import { workerQueue } from '../engine/queues.js';
import type { StepRow } from './step-enqueuer.js';
import type { TaskMover } from './task-evaluator.js';

/** The moves of one task and the steps to enqueue with them. */
export interface TaskPlan {
  mover: TaskMover;
  enqueue: readonly StepRow[];
}

/**
 * Writes a batch of plans in one statement (tasker.advance_tasks): each task's state path as
 * compare-and-swap transitions, and its steps marked enqueued and sent to the namespace's
 * worker queue with the task's trace context, in the caller's transaction (which holds the
 * task locks): a step attempt is enqueued exactly once.
 */
export async function advanceTasks(tx: Queryable, plans: readonly TaskPlan[]): Promise<void> {
  const payload = plans
    .filter((plan) => plan.mover.changes.length > 0 || plan.enqueue.length > 0)
    .map(({ mover, enqueue }) => ({
      task_uuid: mover.task.task_uuid,
      path: [mover.startState, ...mover.changes.map((change) => change.to)],
      metadata: mover.metadata,
      enqueue: enqueue.map((step) => step.step_uuid),
      queue: workerQueue(mover.task.namespace),
      headers: mover.task.traceparent ? { traceparent: mover.task.traceparent } : {},
    }));
  if (payload.length === 0) return;
  await tx.query('SELECT tasker.advance_tasks($1::jsonb)', [JSON.stringify(payload)]);
}
