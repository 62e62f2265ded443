import type { Queryable } from '../db/database.js';
import type { StepResultMessage } from '../engine/queues.js';
import type { PgmqClient } from '../messaging/pgmq-client.js';
import { transitionStep } from '../persistence/transitions.js';
import type { StepState } from '../state/step-state-machine.js';
import { isTerminal as isTaskTerminal } from '../state/task-state-machine.js';
import { mayRetry, retryDelayMs, type RetryPolicy } from './backoff.js';
import { evaluateTask, TaskMover, type EvaluationOutcome } from './task-evaluator.js';
import { lockTask } from './task-lock.js';

interface ResultStepRow extends RetryPolicy {
  name: string;
  state: StepState;
  attempts: number;
  error: { permanent?: boolean; message?: string } | null;
}

/** How one step result landed: the step's new state, and the task evaluation that followed. */
export interface ResultOutcome {
  stepName: string;
  stepState: StepState;
  attempt: number;
  retryInMs?: number;
  evaluation: EvaluationOutcome;
}

/**
 * Applies a worker's reported attempt to its step (complete, retry later, or error) and
 * re-evaluates the task, all under the task lock. Stale reports (an older attempt, a task
 * already finished or cancelled) change nothing and resolve undefined.
 */
export async function processStepResult(
  tx: Queryable,
  queue: PgmqClient,
  message: StepResultMessage,
): Promise<ResultOutcome | undefined> {
  const task = await lockTask(tx, message.task_uuid);
  if (!task || isTaskTerminal(task.status)) return undefined;
  const { rows } = await tx.query<ResultStepRow>(
    `SELECT name, state, attempts, error, retryable, max_attempts AS "maxAttempts", backoff,
            backoff_base_ms AS "backoffBaseMs", max_backoff_ms AS "maxBackoffMs"
       FROM tasker.workflow_steps WHERE step_uuid = $1 AND task_uuid = $2`,
    [message.step_uuid, message.task_uuid],
  );
  const step = rows[0];
  if (!step || step.attempts !== message.attempt) return undefined;

  let stepState: StepState;
  let retryInMs: number | undefined;
  const meta = { attempt: message.attempt };
  if (step.state === 'enqueued_for_orchestration') {
    stepState = 'complete';
  } else if (step.state === 'enqueued_as_error_for_orchestration') {
    const permanent = step.error?.permanent === true;
    if (mayRetry(step, step.attempts, permanent)) {
      stepState = 'waiting_for_retry';
      retryInMs = retryDelayMs(step, step.attempts);
      await tx.query(
        `UPDATE tasker.workflow_steps SET next_attempt_at = now() + $2 * interval '1 millisecond'
          WHERE step_uuid = $1`,
        [message.step_uuid, retryInMs],
      );
    } else {
      stepState = 'error';
    }
  } else {
    return undefined;
  }
  await transitionStep(tx, message.step_uuid, step.state, stepState, meta);
  const evaluation = await evaluateTask(tx, queue, new TaskMover(tx, task));
  return {
    stepName: step.name,
    stepState,
    attempt: message.attempt,
    ...(retryInMs !== undefined ? { retryInMs } : {}),
    evaluation,
  };
}
