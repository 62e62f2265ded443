import { assertTransition as assertTaskTransition, type TaskState } from '../state/task-state-machine.js';
import { decideTask, type TaskDecision } from './evaluate.js';
import type { StepRow } from './step-enqueuer.js';
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
 * The moves planned for one locked task, each checked against the task state machine as it
 * is made. Nothing is written here: {@link advanceTasks} writes the plans of a batch at once.
 */
export class TaskMover {
  readonly changes: TaskChange[] = [];
  readonly metadata: Array<Record<string, unknown>> = [];
  readonly startState: TaskState;

  constructor(readonly task: LockedTask) {
    this.startState = task.status;
  }

  get state(): TaskState {
    return this.task.status;
  }

  move(to: TaskState, metadata: Record<string, unknown> = {}): void {
    const from = this.task.status;
    assertTaskTransition(from, to);
    this.changes.push({ from, to });
    this.metadata.push(metadata);
    this.task.status = to;
  }
}

/**
 * Decides what happens to a locked task from its steps and plans the moves: enqueue what
 * became viable, finish it, or park it waiting for dependencies or a retry. Pure.
 */
export function planEvaluation(mover: TaskMover, steps: readonly StepRow[]): EvaluationOutcome {
  const decision = decideTask(steps);
  const viable = steps.filter((step) => step.viable);
  let enqueued: StepRow[] = [];
  if (mover.state !== 'enqueuing_steps' && mover.state !== 'evaluating_results') {
    mover.move('evaluating_results');
  }
  switch (decision) {
    case 'enqueue':
      if (mover.state === 'evaluating_results') mover.move('enqueuing_steps');
      enqueued = viable;
      mover.move('steps_in_process', { enqueued: enqueued.map((step) => step.name) });
      break;
    case 'complete':
      mover.move('complete');
      break;
    case 'fail':
      mover.move('blocked_by_failures');
      mover.move('error');
      break;
    case 'blocked':
      mover.move('blocked_by_failures');
      break;
    case 'waiting_for_retry':
      mover.move('waiting_for_retry');
      break;
    case 'waiting_for_dependencies':
      mover.move('waiting_for_dependencies');
      break;
  }
  return { decision, changes: mover.changes, enqueued, viable: viable.length, final: mover.state };
}
