import type { Queryable } from '../db/database.js';
import { TaskerError } from '../errors.js';
import type { PgmqClient } from '../messaging/pgmq-client.js';
import { transitionTask } from '../persistence/transitions.js';
import type { TaskState } from '../state/task-state-machine.js';
import { decideTask, type TaskDecision } from './evaluate.js';
import { enqueueSteps, loadSteps, type StepRow } from './step-enqueuer.js';
import type { LockedTask } from './task-lock.js';

/** One state change made inside an orchestration transaction, reported after commit. */
export interface TaskChange {
  from: TaskState;
  to: TaskState;
}

/** What one evaluation did to a task. */
export interface EvaluationOutcome {
  decision: TaskDecision;
  changes: TaskChange[];
  enqueued: StepRow[];
  /** Steps found viable (before enqueueing), for `workflow.viable_steps_discovered`. */
  viable: number;
  final: TaskState;
}

/**
 * Walks a task through its states while holding its lock: each step is a compare-and-swap
 * that must succeed, since the lock rules out a concurrent orchestrator.
 */
export class TaskMover {
  readonly changes: TaskChange[] = [];

  constructor(
    private readonly tx: Queryable,
    readonly task: LockedTask,
  ) {}

  get state(): TaskState {
    return this.task.status;
  }

  async move(to: TaskState, metadata: Record<string, unknown> = {}): Promise<void> {
    const from = this.task.status;
    if (!(await transitionTask(this.tx, this.task.task_uuid, from, to, metadata))) {
      throw new TaskerError('STATE_CONFLICT', `task ${this.task.task_uuid} changed state under its lock (${from})`);
    }
    this.changes.push({ from, to });
    this.task.status = to;
  }
}

/**
 * Looks at a locked task's steps and moves it on: enqueue what became viable, or finish it,
 * or park it waiting for dependencies or a retry. Runs in the caller's transaction.
 */
export async function evaluateTask(
  tx: Queryable,
  queue: PgmqClient,
  mover: TaskMover,
): Promise<EvaluationOutcome> {
  const { task } = mover;
  const steps = await loadSteps(tx, task.task_uuid);
  const decision = decideTask(steps);
  const viable = steps.filter((step) => step.viable);
  let enqueued: StepRow[] = [];
  if (mover.state !== 'enqueuing_steps' && mover.state !== 'evaluating_results') {
    await mover.move('evaluating_results');
  }
  switch (decision) {
    case 'enqueue':
      if (mover.state === 'evaluating_results') await mover.move('enqueuing_steps');
      enqueued = await enqueueSteps(tx, queue, task, viable);
      await mover.move('steps_in_process', { enqueued: enqueued.map((step) => step.name) });
      break;
    case 'complete':
      await mover.move('complete');
      break;
    case 'fail':
      await mover.move('blocked_by_failures');
      await mover.move('error');
      break;
    case 'blocked':
      await mover.move('blocked_by_failures');
      break;
    case 'waiting_for_retry':
      await mover.move('waiting_for_retry');
      break;
    case 'waiting_for_dependencies':
      await mover.move('waiting_for_dependencies');
      break;
  }
  return { decision, changes: mover.changes, enqueued, viable: viable.length, final: mover.state };
}
