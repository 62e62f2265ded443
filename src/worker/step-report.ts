import type { Database, Queryable } from '../db/database.js';
import { GroupCommit } from '../db/group-commit.js';
import { logger } from '../logging/logger.js';
import { parseOutcome, type ItemOutcome, type RawOutcome } from '../orchestration/orchestrate.js';
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

/** How a worker reports. */
export interface ReporterOptions {
  /**
   * Orchestrate the results in the report's transaction when the task can be locked at once
   * (`worker.orchestrate_results`); otherwise they go to the orchestrators through their queue.
   */
  orchestrate?: boolean;
  /** Told, after the commit, what the orchestration of a reported result did. */
  onOrchestrated?: (outcome: ItemOutcome) => void;
}

interface ReportRow {
  reported: { reported: boolean[]; outcomes: RawOutcome[] };
}

/** Reports written in one statement at most. */
const MAX_REPORT_GROUP = 500;

/**
 * Report statements in flight at once. A report orchestrates its results, most of a step's
 * database work, in one backend: with one statement at a time that backend was the bottleneck
 * and the server's other core sat idle (1,620 → 2,110 steps/s with two, docs/benchmarks.md).
 * Two statements take their tasks with SKIP LOCKED, as two workers' reports always could.
 */
const REPORT_LANES = 2;

/**
 * Creates the worker's reporter. Each report records the outcome, archives the worker's message
 * and orchestrates the result or hands it to the orchestrators (tasker.report_attempts), fenced
 * by the attempt number and the claim's token: an attempt already written off (redelivered after
 * a timeout, its claim undone by a server crash, or its task cancelled) changes nothing. Reports
 * that come in while two others are being written share the next statement (group commit). Durable
 * events go out in the same transaction (the outbox).
 */
export function createReporter(db: Database, options: ReporterOptions = {}): ReportAttempt {
  const group = new GroupCommit<AttemptReport, boolean>(
    (reports) => writeReports(db, options, reports),
    MAX_REPORT_GROUP,
    REPORT_LANES,
  );
  return (report) => group.submit(report);
}

/** Writes a group of reports in one statement (one transaction when events go with them). */
async function writeReports(
  db: Database,
  options: ReporterOptions,
  reports: readonly AttemptReport[],
): Promise<boolean[]> {
  const write = async (q: Queryable): Promise<ReportRow['reported']> => {
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
    const { rows } = await q.query<ReportRow>('SELECT tasker.report_attempts($1::jsonb, $2) AS reported', [
      JSON.stringify(payload),
      options.orchestrate === true,
    ]);
    const written = rows[0]?.reported ?? { reported: [], outcomes: [] };
    for (const [i, report] of reports.entries()) {
      if (written.reported[i] && report.events.persists(report.outcome.ok))
        await report.events.persist(q, report.outcome.ok);
    }
    return written;
  };
  const needsTransaction = reports.some((report) => report.events.persists(report.outcome.ok));
  const written = await (needsTransaction ? db.transaction(write) : write(db));
  // After the commit, and never a reason to report again: the results are recorded.
  try {
    if (options.onOrchestrated) for (const raw of written.outcomes) options.onOrchestrated(parseOutcome(raw));
  } catch (error) {
    logger.warn({ err: error }, 'observer of a worker orchestration failed');
  }
  return written.reported;
}

/** Turns whatever a handler threw into a stored error record. */
export function toErrorRecord(error: unknown, permanent: boolean): StepErrorRecord {
  if (error instanceof Error) return { name: error.name, message: error.message, permanent };
  return { name: 'Error', message: String(error), permanent };
}
