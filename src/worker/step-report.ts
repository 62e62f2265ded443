import type { Queryable } from '../db/database.js';
import { STEP_RESULTS_QUEUE } from '../engine/queues.js';
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
 * Records an attempt's outcome, reports it to the orchestrators and archives the worker's
 * message `msgId` of `queue`, in one statement (tasker.report_attempt) run by `db` (or in the
 * caller's transaction). Fenced by the attempt number: a worker whose attempt was already
 * written off (redelivered after a timeout, or the task cancelled) changes nothing and gets false.
 */
export async function reportAttempt(
  db: Queryable,
  step: ClaimedStep,
  outcome: AttemptOutcome,
  queue: string,
  msgId: number,
): Promise<boolean> {
  const { rows } = await db.query<{ reported: boolean }>(
    'SELECT tasker.report_attempt($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8) AS reported',
    [
      step.step_uuid,
      step.attempt,
      outcome.ok,
      outcome.ok ? JSON.stringify(outcome.result ?? null) : null,
      outcome.ok ? null : JSON.stringify(outcome.error),
      queue,
      msgId,
      STEP_RESULTS_QUEUE,
    ],
  );
  return rows[0]?.reported === true;
}

/** Turns whatever a handler threw into a stored error record. */
export function toErrorRecord(error: unknown, permanent: boolean): StepErrorRecord {
  if (error instanceof Error) return { name: error.name, message: error.message, permanent };
  return { name: 'Error', message: String(error), permanent };
}
