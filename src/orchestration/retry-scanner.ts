import type { Database } from '../db/database.js';
import type { TaskState } from '../state/task-state-machine.js';
import { orchestrate, type EvaluationOutcome } from './orchestrate.js';

/** Task states in which a step may be waiting for its retry backoff to elapse. */
const RETRY_WAITING_STATES: readonly TaskState[] = [
  'waiting_for_retry',
  'waiting_for_dependencies',
  'steps_in_process',
];

/**
 * Re-evaluates tasks that have a step whose retry backoff has elapsed, so the step is
 * enqueued again, in one transaction. Tasks another orchestrator is working on are skipped
 * (SKIP LOCKED) and picked up on a later scan. Resolves to the evaluations made, for telemetry.
 */
export async function enqueueDueRetries(
  db: Database,
  limit = 100,
): Promise<Array<{ taskUuid: string; outcome: EvaluationOutcome }>> {
  // Only tasks that can still retry: a finished task may keep a step waiting_for_retry (its
  // sibling failed for good), and such steps must neither crowd out live ones nor cost a scan.
  const due = await db.query<{ task_uuid: string }>(
    `SELECT DISTINCT s.task_uuid FROM tasker.workflow_steps s JOIN tasker.tasks t ON t.task_uuid = s.task_uuid
      WHERE s.state = 'waiting_for_retry' AND s.next_attempt_at <= now() AND t.status = ANY($2) LIMIT $1`,
    [limit, RETRY_WAITING_STATES],
  );
  if (due.rows.length === 0) return [];
  const outcomes = await orchestrate(
    db,
    due.rows.map((row) => ({ kind: 'reevaluate' as const, taskUuid: row.task_uuid })),
    { skipLocked: true },
  );
  return outcomes.flatMap((outcome) =>
    outcome && outcome.kind !== 'result' ? [{ taskUuid: outcome.taskUuid, outcome: outcome.evaluation }] : [],
  );
}
