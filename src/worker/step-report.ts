import type { Queryable } from '../db/database.js';
import { STEP_RESULTS_QUEUE, type StepResultMessage } from '../engine/queues.js';
import type { PgmqClient } from '../messaging/pgmq-client.js';
import { transitionStep } from '../persistence/transitions.js';
import type { ClaimedStep } from './step-claim.js';

/** A failed attempt as stored with the step and shown by `task show`. */
export interface StepErrorRecord {
  name: string;
  message: string;
  permanent: boolean;
}

/** How one attempt ended. */
export type AttemptOutcome = { ok: true; result: unknown } | { ok: false; error: StepErrorRecord };

/**
 * Records an attempt's outcome and reports it to the orchestrators, in the caller's
 * transaction. Fenced by the attempt number: a worker whose attempt was already written off
 * (redelivered after a timeout, or the task cancelled) changes nothing and gets false.
 */
export async function reportAttempt(
  tx: Queryable,
  queue: PgmqClient,
  step: ClaimedStep,
  outcome: AttemptOutcome,
): Promise<boolean> {
  const result = outcome.ok ? JSON.stringify(outcome.result ?? null) : null;
  const error = outcome.ok ? null : JSON.stringify(outcome.error);
  const fenced = await tx.query(
    `UPDATE tasker.workflow_steps SET result = $3::jsonb, error = $4::jsonb
      WHERE step_uuid = $1 AND attempts = $2 AND state = 'in_progress'`,
    [step.step_uuid, step.attempt, result, error],
  );
  if (fenced.rowCount === 0) return false;
  await transitionStep(
    tx,
    step.step_uuid,
    'in_progress',
    outcome.ok ? 'enqueued_for_orchestration' : 'enqueued_as_error_for_orchestration',
    { attempt: step.attempt },
  );
  await tx.query(
    `UPDATE tasker.step_attempts SET outcome = $3, result = $4::jsonb, error = $5::jsonb, finished_at = now()
      WHERE step_uuid = $1 AND attempt = $2`,
    [step.step_uuid, step.attempt, outcome.ok ? 'success' : 'failure', result, error],
  );
  const report: StepResultMessage = { task_uuid: step.task_uuid, step_uuid: step.step_uuid, attempt: step.attempt };
  await queue.send(STEP_RESULTS_QUEUE, report, { tx });
  return true;
}

/** Turns whatever a handler threw into a stored error record. */
export function toErrorRecord(error: unknown, permanent: boolean): StepErrorRecord {
  if (error instanceof Error) return { name: error.name, message: error.message, permanent };
  return { name: 'Error', message: String(error), permanent };
}
