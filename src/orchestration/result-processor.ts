import type { Queryable } from '../db/database.js';
import { assertTransition as assertStepTransition, type StepState } from '../state/step-state-machine.js';
import { mayRetry, retryDelayMs, type RetryPolicy } from './backoff.js';
import type { EvaluationOutcome } from './task-evaluator.js';

/** A reported step as the orchestrator judges it. */
export interface ReportedStep extends RetryPolicy {
  step_uuid: string;
  task_uuid: string;
  name: string;
  state: StepState;
  attempts: number;
  error: { permanent?: boolean; name?: string } | null;
}

/** What the orchestrator decided for one reported attempt. */
export interface Settlement {
  step: ReportedStep;
  to: StepState;
  retryInMs?: number;
}

/** How one step result landed: the step's new state, and the task evaluation that followed. */
export interface ResultOutcome {
  namespace: string;
  stepName: string;
  stepState: StepState;
  attempt: number;
  retryInMs?: number;
  /** The error name of a failed attempt (`PermanentError`, `StepTimeoutError`, `WorkerLost`, …). */
  errorName?: string;
  evaluation: EvaluationOutcome;
}

/** The reported steps of a batch, by step uuid (read under the locks of their tasks). */
export async function loadReportedSteps(
  tx: Queryable,
  stepUuids: readonly string[],
): Promise<Map<string, ReportedStep>> {
  const { rows } = await tx.query<ReportedStep>(
    `SELECT step_uuid, task_uuid, name, state, attempts, error, retryable, max_attempts AS "maxAttempts",
            backoff, backoff_base_ms AS "backoffBaseMs", max_backoff_ms AS "maxBackoffMs"
       FROM tasker.workflow_steps WHERE step_uuid = ANY($1)`,
    [stepUuids],
  );
  return new Map(rows.map((row) => [row.step_uuid, row]));
}

/**
 * Judges a reported attempt: a success completes the step; a failure is retried after its
 * backoff while the policy allows, else the step is in error. Undefined for a stale report
 * (an older attempt, or a step no longer awaiting judgement). Pure.
 */
export function settle(step: ReportedStep, attempt: number): Settlement | undefined {
  if (step.attempts !== attempt) return undefined;
  if (step.state === 'enqueued_for_orchestration') return { step, to: 'complete' };
  if (step.state !== 'enqueued_as_error_for_orchestration') return undefined;
  if (mayRetry(step, step.attempts, step.error?.permanent === true)) {
    return { step, to: 'waiting_for_retry', retryInMs: retryDelayMs(step, step.attempts) };
  }
  return { step, to: 'error' };
}

/** Writes a batch of settlements in one statement (tasker.settle_steps). */
export async function settleSteps(tx: Queryable, settlements: readonly Settlement[]): Promise<void> {
  if (settlements.length === 0) return;
  const payload = settlements.map(({ step, to, retryInMs }) => {
    assertStepTransition(step.state, to);
    return {
      step_uuid: step.step_uuid,
      from: step.state,
      to,
      retry_in_ms: retryInMs ?? null,
      metadata: { attempt: step.attempts },
    };
  });
  await tx.query('SELECT tasker.settle_steps($1::jsonb)', [JSON.stringify(payload)]);
}
