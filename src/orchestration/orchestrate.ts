import type { Queryable } from '../db/database.js';
import type { StepState } from '../state/step-state-machine.js';
import type { TaskState } from '../state/task-state-machine.js';

/** One thing an orchestrator was asked to do to a task. */
export type OrchestrationItem =
  /** A task request: start a pending task. */
  | { kind: 'initialize'; taskUuid: string }
  /** A worker reported an attempt of a step. */
  | { kind: 'result'; taskUuid: string; stepUuid: string; attempt: number }
  /** Look at the task again (a retry came due, or an operator changed a step). */
  | { kind: 'reevaluate'; taskUuid: string };

/** What the orchestrator decided for a task after looking at its steps. */
export type TaskDecision =
  'complete' | 'enqueue' | 'fail' | 'blocked' | 'waiting_for_retry' | 'waiting_for_dependencies';

/** One state change made inside an orchestration transaction, reported after commit. */
export interface TaskChange {
  from: TaskState;
  to: TaskState;
}

/** What one evaluation did to a task. */
export interface EvaluationOutcome {
  decision: TaskDecision;
  changes: TaskChange[];
  /** Names of the steps enqueued. */
  enqueued: string[];
  /** Steps found ready to run (`workflow.viable_steps_discovered`). */
  viable: number;
  final: TaskState;
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

/** What became of an item: undefined when it was stale and changed nothing. */
export type ItemOutcome =
  | { kind: 'initialize' | 'reevaluate'; taskUuid: string; evaluation: EvaluationOutcome }
  | { kind: 'result'; taskUuid: string; result: ResultOutcome }
  | undefined;

/** An outcome as tasker.orchestrate returns it (also inside tasker.report_attempts' result). */
export type RawOutcome =
  | { kind: 'initialize' | 'reevaluate'; task_uuid: string; evaluation: EvaluationOutcome }
  | {
      kind: 'result';
      task_uuid: string;
      namespace: string;
      step_name: string;
      step_state: StepState;
      attempt: number;
      retry_in_ms: number | null;
      error_name: string | null;
      evaluation: EvaluationOutcome;
    }
  | null;

export function parseOutcome(raw: RawOutcome): ItemOutcome {
  if (raw === null) return undefined;
  if (raw.kind !== 'result') return { kind: raw.kind, taskUuid: raw.task_uuid, evaluation: raw.evaluation };
  return {
    kind: 'result',
    taskUuid: raw.task_uuid,
    result: {
      namespace: raw.namespace,
      stepName: raw.step_name,
      stepState: raw.step_state,
      attempt: raw.attempt,
      ...(raw.retry_in_ms !== null ? { retryInMs: raw.retry_in_ms } : {}),
      ...(raw.error_name !== null ? { errorName: raw.error_name } : {}),
      evaluation: raw.evaluation,
    },
  };
}

/**
 * Orchestrates a batch in one statement (tasker.orchestrate, sql/migrations/0007): locks the
 * tasks in uuid order, settles the reported attempts (complete, retry after backoff, or
 * error), decides each task's next states from its steps, enqueues the steps that became
 * ready, and archives the batch's messages when `archive` names them. Items for the same task
 * share one evaluation. With `skipLocked`, tasks another orchestrator holds are left out.
 */
export async function orchestrate(
  db: Queryable,
  items: readonly OrchestrationItem[],
  options: { skipLocked?: boolean; archive?: { queue: string; msgIds: readonly number[] } } = {},
): Promise<ItemOutcome[]> {
  const payload = items.map((item) => ({
    kind: item.kind,
    task_uuid: item.taskUuid,
    ...(item.kind === 'result' ? { step_uuid: item.stepUuid, attempt: item.attempt } : {}),
  }));
  const { rows } = await db.query<{ outcomes: RawOutcome[] }>(
    'SELECT tasker.orchestrate($1::jsonb, $2, $3, $4) AS outcomes',
    [
      JSON.stringify(payload),
      options.skipLocked === true,
      options.archive?.queue ?? null,
      options.archive?.msgIds ?? [],
    ],
  );
  return (rows[0]?.outcomes ?? []).map(parseOutcome);
}
