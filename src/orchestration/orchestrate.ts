import type { Queryable } from '../db/database.js';
import { isTerminal as isTaskTerminal, type TaskState } from '../state/task-state-machine.js';
import { advanceTasks, type TaskPlan } from './advance.js';
import {
  loadReportedSteps,
  settle,
  settleSteps,
  type ResultOutcome,
  type Settlement,
} from './result-processor.js';
import { loadSteps } from './step-enqueuer.js';
import { planEvaluation, TaskMover, type EvaluationOutcome } from './task-evaluator.js';
import { lockTasks, type LockedTask } from './task-lock.js';

/** One thing an orchestrator was asked to do to a task. */
export type OrchestrationItem =
  /** A task request: start a pending task. */
  | { kind: 'initialize'; taskUuid: string }
  /** A worker reported an attempt of a step. */
  | { kind: 'result'; taskUuid: string; stepUuid: string; attempt: number }
  /** Look at the task again (a retry came due, or an operator changed a step). */
  | { kind: 'reevaluate'; taskUuid: string };

/** What became of an item: undefined when it was stale and changed nothing. */
export type ItemOutcome =
  | { kind: 'initialize' | 'reevaluate'; taskUuid: string; evaluation: EvaluationOutcome }
  | { kind: 'result'; taskUuid: string; result: ResultOutcome }
  | undefined;

/** Task states a reevaluation may start from. */
const REEVALUATE_FROM: ReadonlySet<TaskState> = new Set([
  'steps_in_process',
  'waiting_for_dependencies',
  'waiting_for_retry',
  'blocked_by_failures',
]);

/**
 * Orchestrates a batch in the caller's transaction with a fixed number of statements whatever
 * its size: lock the tasks, settle the reported steps, load the tasks' steps, decide, and write
 * every task's moves and enqueued steps at once. Items for the same task share one evaluation.
 */
export async function orchestrate(
  tx: Queryable,
  items: readonly OrchestrationItem[],
  options: { skipLocked?: boolean } = {},
): Promise<ItemOutcome[]> {
  const tasks = await lockTasks(tx, [...new Set(items.map((item) => item.taskUuid))], options);
  const live = (item: OrchestrationItem): LockedTask | undefined => {
    const task = tasks.get(item.taskUuid);
    return task && !isTaskTerminal(task.status) ? task : undefined;
  };

  const resultItems = items.filter(
    (item): item is Extract<OrchestrationItem, { kind: 'result' }> =>
      item.kind === 'result' && live(item) !== undefined,
  );
  const reported = await loadReportedSteps(
    tx,
    resultItems.map((item) => item.stepUuid),
  );
  const settlements = new Map<OrchestrationItem, Settlement>();
  for (const item of resultItems) {
    const step = reported.get(item.stepUuid);
    const settlement = step && step.task_uuid === item.taskUuid ? settle(step, item.attempt) : undefined;
    if (settlement) settlements.set(item, settlement);
  }
  await settleSteps(tx, [...settlements.values()]);

  // Which tasks move, and from where.
  const movers = new Map<string, TaskMover>();
  for (const item of items) {
    const task = live(item);
    if (!task || movers.has(task.task_uuid)) continue;
    if (item.kind === 'initialize' && task.status === 'pending') {
      const mover = new TaskMover(task);
      mover.move('initializing');
      mover.move('enqueuing_steps');
      movers.set(task.task_uuid, mover);
    } else if (
      (item.kind === 'result' && settlements.has(item)) ||
      (item.kind === 'reevaluate' && REEVALUATE_FROM.has(task.status))
    ) {
      movers.set(task.task_uuid, new TaskMover(task));
    }
  }
  const steps = await loadSteps(tx, [...movers.keys()]);
  const evaluations = new Map<string, EvaluationOutcome>();
  const plans: TaskPlan[] = [];
  for (const [taskUuid, mover] of movers) {
    const evaluation = planEvaluation(mover, steps.get(taskUuid) ?? []);
    evaluations.set(taskUuid, evaluation);
    plans.push({ mover, enqueue: evaluation.enqueued });
  }
  await advanceTasks(tx, plans);

  return items.map((item): ItemOutcome => {
    const evaluation = evaluations.get(item.taskUuid);
    if (!evaluation) return undefined;
    if (item.kind !== 'result') {
      return item.kind === 'initialize' && evaluation.changes[0]?.to !== 'initializing'
        ? undefined
        : { kind: item.kind, taskUuid: item.taskUuid, evaluation };
    }
    const settlement = settlements.get(item);
    if (!settlement) return undefined;
    const task = tasks.get(item.taskUuid)!;
    return {
      kind: 'result',
      taskUuid: item.taskUuid,
      result: {
        namespace: task.namespace,
        stepName: settlement.step.name,
        stepState: settlement.to,
        attempt: item.attempt,
        ...(settlement.retryInMs !== undefined ? { retryInMs: settlement.retryInMs } : {}),
        ...(settlement.to !== 'complete' ? { errorName: settlement.step.error?.name ?? 'Error' } : {}),
        evaluation,
      },
    };
  });
}
