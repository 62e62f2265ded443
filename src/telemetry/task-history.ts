import type { Queryable } from '../db/database.js';
import type {
  StepRecord,
  StepTransitionRecord,
  TaskHistory,
  TaskRecord,
  TransitionRecord,
} from './task-span-events.js';

/*
 * Reads what task spans are rebuilt from, for any number of tasks in one round trip. Times come as whole microseconds
 * since the epoch: a JavaScript Date keeps milliseconds only, which would merge transactions
 * that the span events must keep apart. Transitions come as JSON arrays, not objects: a task has
 * dozens, and arrays take PostgreSQL a third less time to build and the client a fifth less CPU to
 * read. Empty metadata comes as null, which parses without an allocation.
 */

const US = (column: string): string => `(extract(epoch FROM ${column}) * 1000000)::bigint`;

// Each subquery uses its table's task_uuid index; step names are joined in JavaScript.
const HISTORY_SQL = `
SELECT t.task_uuid, t.namespace, t.name, t.version, t.correlation_id, t.status, t.traceparent,
       t.parent_traceparent, ${US('t.created_at')} AS created_us, ${US('t.completed_at')} AS completed_us,
       (SELECT coalesce(json_agg(json_build_array(
                 tt.from_state, tt.to_state, nullif(tt.metadata, '{}'), ${US('tt.created_at')}, tt.sort_key)
                 ORDER BY tt.sort_key), '[]')
          FROM tasker.task_transitions tt WHERE tt.task_uuid = t.task_uuid) AS task_transitions,
       (SELECT coalesce(json_agg(json_build_array(
                 st.from_state, st.to_state, nullif(st.metadata, '{}'), ${US('st.created_at')}, st.id, st.step_uuid)
                 ORDER BY st.id), '[]')
          FROM tasker.step_transitions st WHERE st.task_uuid = t.task_uuid) AS step_transitions,
       (SELECT coalesce(json_agg(json_build_array(
                 s.step_uuid, s.name, s.state, s.error->>'name', s.error->>'message') ORDER BY s.position), '[]')
          FROM tasker.workflow_steps s WHERE s.task_uuid = t.task_uuid) AS steps
  FROM tasker.tasks t
 WHERE t.task_uuid = ANY($1::uuid[])`;

type Metadata = Record<string, unknown> | null;
/** [from, to, metadata, atUs, seq] */
type TransitionRow = [string | null, string, Metadata, number, number];
/** [from, to, metadata, atUs, seq, stepUuid] */
type StepTransitionRow = [...TransitionRow, string];
/** [stepUuid, name, state, errorName, errorMessage] */
type StepRow = [string, string, string, string | null, string | null];

interface HistoryRow {
  task_uuid: string;
  namespace: string;
  name: string;
  version: string;
  correlation_id: string;
  status: string;
  traceparent: string | null;
  parent_traceparent: string | null;
  /** Microseconds since the epoch: below 2^53, so exact as JSON numbers. */
  created_us: number;
  completed_us: number | null;
  task_transitions: TransitionRow[];
  step_transitions: StepTransitionRow[];
  steps: StepRow[];
}

/** Shared by every transition without metadata; nothing writes to a record's metadata. */
const NO_METADATA: Record<string, unknown> = Object.freeze({});

function toTransition(row: TransitionRow | StepTransitionRow): TransitionRecord {
  return { from: row[0], to: row[1], metadata: row[2] ?? NO_METADATA, atUs: row[3], seq: row[4] };
}

function toHistory(row: HistoryRow): TaskHistory {
  const task: TaskRecord = {
    taskUuid: row.task_uuid,
    namespace: row.namespace,
    name: row.name,
    version: row.version,
    correlationId: row.correlation_id,
    status: row.status,
    createdUs: row.created_us,
    completedUs: row.completed_us,
    traceparent: row.traceparent,
    parentTraceparent: row.parent_traceparent,
  };
  // Rows are read by index: destructuring an array allocates an iterator, per transition here.
  const steps: StepRecord[] = row.steps.map((step) => ({
    stepUuid: step[0],
    name: step[1],
    state: step[2],
    errorName: step[3],
    errorMessage: step[4],
  }));
  const names = new Map(steps.map((step) => [step.stepUuid, step.name]));
  return {
    task,
    taskTransitions: row.task_transitions.map(toTransition),
    stepTransitions: row.step_transitions.map((transition): StepTransitionRecord =>
      Object.assign(toTransition(transition), {
        stepUuid: transition[5],
        stepName: names.get(transition[5]) ?? '?',
      }),
    ),
    steps,
  };
}

/**
 * The histories of several tasks in one round trip, as the JSON text of an array of rows (tasks
 * that do not exist are absent): the caller's process never parses it, so task spans can be
 * rebuilt in another thread (parseTaskHistories) at the cost of copying one string.
 */
export async function loadTaskHistoriesJson(db: Queryable, taskUuids: readonly string[]): Promise<string> {
  if (taskUuids.length === 0) return '[]';
  const { rows } = await db.query<{ histories: string }>(
    `SELECT coalesce(json_agg(h), '[]')::text AS histories FROM (${HISTORY_SQL}) h`,
    [taskUuids],
  );
  return rows[0]?.histories ?? '[]';
}

/** The histories in the text of loadTaskHistoriesJson. */
export function parseTaskHistories(json: string): TaskHistory[] {
  return (JSON.parse(json) as HistoryRow[]).map(toHistory);
}
