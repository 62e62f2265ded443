import type { Queryable } from '../db/database.js';
import { STEP_RESULTS_QUEUE, type StepResultMessage } from '../engine/queues.js';
import type { PgmqClient } from '../messaging/pgmq-client.js';
import { transitionStep } from '../persistence/transitions.js';
import type { StepState } from '../state/step-state-machine.js';

/** A step a worker has claimed for one attempt, with everything its handler needs. */
export interface ClaimedStep {
  step_uuid: string;
  step_name: string;
  attempt: number;
  handler_callable: string;
  handler_initialization: Record<string, unknown>;
  timeout_seconds: number;
  task_uuid: string;
  namespace: string;
  task_name: string;
  version: string;
  correlation_id: string;
  context: Record<string, unknown>;
  dependency_results: Record<string, unknown>;
}

interface StepForClaim extends Omit<ClaimedStep, 'attempt' | 'dependency_results'> {
  state: StepState;
  attempts: number;
}

/** What the claim found. */
export type ClaimOutcome =
  | { kind: 'claimed'; step: ClaimedStep }
  /** The previous attempt's worker died mid-step: that attempt is reported as failed. */
  | { kind: 'lost'; stepName: string; attempt: number }
  /** The message is for a step that moved on (cancelled, resolved, already reported). */
  | { kind: 'stale' };

/**
 * Claims a step for an attempt (enqueued → in_progress, attempts + 1) in the caller's
 * transaction. A redelivered message for a step still in_progress means its worker died:
 * that attempt is recorded as lost and reported as a failure, so the orchestrator's retry
 * policy (and attempt count) applies to it like any other failure.
 */
export async function claimStep(
  tx: Queryable,
  queue: PgmqClient,
  stepUuid: string,
  workerId: string,
): Promise<ClaimOutcome> {
  const { rows } = await tx.query<StepForClaim>(
    `SELECT s.step_uuid, s.name AS step_name, s.state, s.attempts, s.handler_callable, s.handler_initialization,
            s.timeout_seconds, t.task_uuid, t.namespace, t.name AS task_name, t.version, t.correlation_id, t.context
       FROM tasker.workflow_steps s JOIN tasker.tasks t ON t.task_uuid = s.task_uuid
      WHERE s.step_uuid = $1
      FOR UPDATE OF s`,
    [stepUuid],
  );
  const row = rows[0];
  if (!row) return { kind: 'stale' };

  if (row.state === 'in_progress') {
    const error = {
      name: 'WorkerLost',
      message: `attempt ${row.attempts} was lost: its worker stopped before reporting a result`,
      permanent: false,
    };
    await tx.query(
      `UPDATE tasker.step_attempts SET outcome = 'lost', error = $3::jsonb, finished_at = now()
        WHERE step_uuid = $1 AND attempt = $2 AND outcome = 'running'`,
      [stepUuid, row.attempts, JSON.stringify(error)],
    );
    await tx.query('UPDATE tasker.workflow_steps SET error = $2::jsonb WHERE step_uuid = $1', [
      stepUuid,
      JSON.stringify(error),
    ]);
    await transitionStep(tx, stepUuid, 'in_progress', 'enqueued_as_error_for_orchestration', {
      attempt: row.attempts,
      lost: true,
    });
    const report: StepResultMessage = { task_uuid: row.task_uuid, step_uuid: stepUuid, attempt: row.attempts };
    await queue.send(STEP_RESULTS_QUEUE, report, { tx });
    return { kind: 'lost', stepName: row.step_name, attempt: row.attempts };
  }
  if (row.state !== 'enqueued') return { kind: 'stale' };

  const attempt = row.attempts + 1;
  await tx.query('UPDATE tasker.workflow_steps SET attempts = $2 WHERE step_uuid = $1', [stepUuid, attempt]);
  await transitionStep(tx, stepUuid, 'enqueued', 'in_progress', { attempt, worker: workerId });
  await tx.query(
    `INSERT INTO tasker.step_attempts (step_uuid, attempt, outcome, worker_id) VALUES ($1, $2, 'running', $3)`,
    [stepUuid, attempt, workerId],
  );
  const parents = await tx.query<{ name: string; result: unknown }>(
    `SELECT p.name, p.result FROM tasker.workflow_step_edges e
       JOIN tasker.workflow_steps p ON p.step_uuid = e.from_step_uuid
      WHERE e.to_step_uuid = $1`,
    [stepUuid],
  );
  const { state: _state, attempts: _attempts, ...claimed } = row;
  return {
    kind: 'claimed',
    step: {
      ...claimed,
      attempt,
      dependency_results: Object.fromEntries(parents.rows.map((parent) => [parent.name, parent.result])),
    },
  };
}
