import type { Database, Queryable } from '../db/database.js';
import { GroupCommit } from '../db/group-commit.js';
import type { ClaimedStep } from './step-claim.js';
import type { AttemptEvents } from './step-events.js';

/** A failed attempt as stored with the step and shown by `task show`. */
export interface StepErrorRecord {
  name: string;
  message: string;
  permanent: boolean;
}

/** How one attempt ended. */
export type AttemptOutcome = { ok: true; result: unknown } | { ok: false; error: StepErrorRecord };

/** One attempt's outcome on its way to the database, with the message it came from. */
export interface AttemptReport {
  step: ClaimedStep;
  outcome: AttemptOutcome;
  queue: string;
  msgId: number;
  events: AttemptEvents;
}

/** Reports an attempt; resolves false when the attempt had already been written off. */
export type ReportAttempt = (report: AttemptReport) => Promise<boolean>;

/**
 * Creates the worker's reporter. Each report records the outcome, reports it to the
 * orchestrators and archives the worker's message (tasker.report_attempts), fenced by the
 * attempt number and the claim's token: an attempt already written off (redelivered after a
 * timeout, its claim undone by a server crash, or its task cancelled) changes nothing. Reports that come in while another is being written share the
 * next statement (group commit). Durable events go out in the same transaction (the outbox).
 */
export function createReporter(db: Database): ReportAttempt {
  const group = new GroupCommit<AttemptReport, boolean>(async (reports) => {
    const write = async (q: Queryable): Promise<boolean[]> => {
      const payload = reports.map(({ step, outcome, queue, msgId }) => ({
        step_uuid: step.step_uuid,
        attempt: step.attempt,
        claim_id: step.claim_id,
        ok: outcome.ok,
        result: outcome.ok ? (outcome.result ?? null) : null,
        error: outcome.ok ? null : outcome.error,
        queue,
        msg_id: msgId,
      }));
      const { rows } = await q.query<{ reported: boolean[] }>(
        'SELECT tasker.report_attempts($1::jsonb) AS reported',
        [JSON.stringify(payload)],
      );
      const reported = rows[0]?.reported ?? [];
      for (const [i, report] of reports.entries()) {
        if (reported[i] && report.events.persists(report.outcome.ok))
          await report.events.persist(q, report.outcome.ok);
      }
      return reported;
    };
    const needsTransaction = reports.some((report) => report.events.persists(report.outcome.ok));
    return needsTransaction ? db.transaction(write) : write(db);
  });
  return (report) => group.submit(report);
}

/** Turns whatever a handler threw into a stored error record. */
export function toErrorRecord(error: unknown, permanent: boolean): StepErrorRecord {
  if (error instanceof Error) return { name: error.name, message: error.message, permanent };
  return { name: 'Error', message: String(error), permanent };
}
