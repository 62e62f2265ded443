import { ASYNC_COMMIT_COLUMN } from '../db/async-commit.js';
import type { Database } from '../db/database.js';
import type { QueueMessage } from '../messaging/pgmq-client.js';

/** A step a worker has claimed for one attempt, with everything its handler needs. */
export interface ClaimedStep {
  step_uuid: string;
  step_name: string;
  attempt: number;
  /** Drawn by the claim; the report brings it back (sql/migrations/0010_worker_reports.sql). */
  claim_id: string;
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

/** What the claim found. */
export type ClaimOutcome =
  | { outcome: 'claimed'; step: ClaimedStep }
  /** The previous attempt's worker died mid-step: that attempt is reported as failed. */
  | { outcome: 'lost'; step_name: string; attempt: number }
  /** The message is for a step that moved on (cancelled, resolved, already reported). */
  | { outcome: 'stale' };

/** Extra seconds a claimed message stays invisible beyond the step's timeout. */
export const VISIBILITY_MARGIN_SECONDS = 10;

interface ClaimRow {
  msg_id: number;
  read_ct: number;
  enqueued_at: Date;
  vt: Date;
  headers: Record<string, unknown> | null;
  claim: ClaimOutcome;
}

/**
 * Reads up to `qty` messages of a worker queue and claims each one's step, in one statement
 * (tasker.read_and_claim_steps): one round trip and one commit for a whole batch. A claim moves
 * the step enqueued → in_progress (attempts + 1) and hides its message until the step's timeout
 * has passed. A redelivered message for a step still in_progress means its worker died: that
 * attempt is recorded as lost and reported as a failure, so the orchestrator's retry policy
 * (and attempt count) applies to it like to any other failure. Lost and stale messages are
 * archived.
 *
 * The claim commits without waiting for its WAL flush (src/db/async-commit.ts). A server crash
 * that undid it leaves the step enqueued with its message visible, so it is claimed again, with
 * the same attempt number but a new claim token: the report of the undone claim brings the old
 * token and is refused. A step runs at least once either way; its report commits synchronously,
 * flushing the claim before it.
 */
export async function readAndClaimSteps(
  db: Database,
  queue: string,
  qty: number,
  readVisibilitySeconds: number,
  workerId: string,
): Promise<Array<QueueMessage<ClaimOutcome>>> {
  const { rows } = await db.query<ClaimRow>(
    `SELECT ${ASYNC_COMMIT_COLUMN}, msg_id, read_ct, enqueued_at, vt, headers, claim FROM tasker.read_and_claim_steps($1, $2, $3, $4, $5)`,
    [queue, qty, readVisibilitySeconds, workerId, VISIBILITY_MARGIN_SECONDS],
  );
  return rows.map((row) => ({
    msgId: row.msg_id,
    readCount: row.read_ct,
    enqueuedAt: row.enqueued_at,
    vt: row.vt,
    headers: row.headers,
    message: row.claim,
  }));
}
