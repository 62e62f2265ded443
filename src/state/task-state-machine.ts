/**
 * The task state machine: the contract every orchestrator follows when it moves a task. A task
 * changes state only along these edges (checked with assertTransition inside the transaction
 * that writes the new state). Pure; docs/state-machines.md is rendered from this table.
 */
import { defineStateMachine, type Edge } from './machine.js';

/** Every task state. */
export const TASK_STATES = [
  'pending',
  'initializing',
  'enqueuing_steps',
  'steps_in_process',
  'evaluating_results',
  'waiting_for_dependencies',
  'waiting_for_retry',
  'blocked_by_failures',
  'complete',
  'error',
  'cancelled',
  'resolved_manually',
] as const;

/** A task's state. */
export type TaskState = (typeof TASK_STATES)[number];

/** Every event that moves a task. */
export const TASK_EVENTS = [
  'start',
  'ready_steps_found',
  'steps_enqueued',
  'step_result_received',
  'awaiting_dependencies',
  'awaiting_retry',
  'retry_due',
  'step_failed_permanently',
  'all_steps_complete',
  'give_up',
  'resolve_manually',
  'cancel',
] as const;

/** An event that moves a task. */
export type TaskEvent = (typeof TASK_EVENTS)[number];

/** One allowed task transition. */
export type TaskTransition = Edge<TaskState, TaskEvent>;

const cancel: TaskTransition = { event: 'cancel', to: 'cancelled' };

/** The transition table: for each state, the edges leaving it. Terminal states have none. */
export const TASK_TRANSITIONS: Readonly<Record<TaskState, readonly TaskTransition[]>> = {
  pending: [{ event: 'start', to: 'initializing' }, cancel],
  initializing: [{ event: 'ready_steps_found', to: 'enqueuing_steps' }, cancel],
  enqueuing_steps: [{ event: 'steps_enqueued', to: 'steps_in_process' }, cancel],
  steps_in_process: [{ event: 'step_result_received', to: 'evaluating_results' }, cancel],
  evaluating_results: [
    { event: 'ready_steps_found', to: 'enqueuing_steps' },
    { event: 'awaiting_dependencies', to: 'waiting_for_dependencies' },
    { event: 'awaiting_retry', to: 'waiting_for_retry' },
    { event: 'step_failed_permanently', to: 'blocked_by_failures' },
    { event: 'all_steps_complete', to: 'complete' },
    cancel,
  ],
  waiting_for_dependencies: [
    { event: 'step_result_received', to: 'evaluating_results' },
    { event: 'retry_due', to: 'enqueuing_steps' },
    cancel,
  ],
  waiting_for_retry: [
    { event: 'retry_due', to: 'enqueuing_steps' },
    { event: 'step_result_received', to: 'evaluating_results' },
    cancel,
  ],
  blocked_by_failures: [
    { event: 'give_up', to: 'error' },
    { event: 'resolve_manually', to: 'resolved_manually' },
    { event: 'step_result_received', to: 'evaluating_results' },
    cancel,
  ],
  complete: [],
  error: [],
  cancelled: [],
  resolved_manually: [],
};

/** The task machine: states, table, descriptions and checks in one object. */
export const taskStateMachine = defineStateMachine<TaskState, TaskEvent>({
  subject: 'task',
  states: TASK_STATES,
  initial: 'pending',
  transitions: TASK_TRANSITIONS,
  stateDescriptions: {
    pending:
      'Created: the context matched the input_schema and the steps are recorded. No orchestrator has picked the task up yet.',
    initializing:
      'An orchestrator claimed the task and is finding its ready steps: the roots, which depend on nothing.',
    enqueuing_steps: "Ready steps are being sent to the namespace's worker queue.",
    steps_in_process: 'Steps are enqueued or running; the orchestrator waits for their results.',
    evaluating_results:
      'A step result arrived (or an operator resolved a step); the orchestrator decides what comes next from the states of all steps.',
    waiting_for_dependencies:
      'Nothing is ready to enqueue, but steps are still in flight; their results bring the task back to evaluation.',
    waiting_for_retry:
      'Nothing is in flight or ready; failed steps wait for their retry backoff. When one comes due it is enqueued.',
    blocked_by_failures:
      'A step is in error (retries exhausted or a permanent failure), so the task cannot complete. No new steps are enqueued; results of steps still in flight are evaluated as usual. The orchestrator gives up once nothing is in flight, unless an operator resolves the failed step (evaluation resumes) or the task.',
    complete: 'Every step is complete or resolved manually. Terminal.',
    error: 'A step failed for good and nothing else could run. Terminal.',
    cancelled:
      'Cancelled by a user or the system before it finished; its unfinished steps are cancelled with it. Terminal.',
    resolved_manually: 'An operator declared the blocked task resolved by hand. Terminal.',
  },
  eventDescriptions: {
    start: 'An orchestrator claims a pending task.',
    ready_steps_found: 'At least one pending step has all its dependencies complete or resolved manually.',
    steps_enqueued:
      'The ready steps were sent to the worker queue (in the same transaction as their state change).',
    step_result_received: "A worker's success or error result was processed, or an operator resolved a step.",
    awaiting_dependencies: 'No step is ready, but some are still in flight.',
    awaiting_retry: 'No step is ready or in flight, but some wait for a retry.',
    retry_due: "A waiting step's backoff has elapsed, so it is enqueued again.",
    step_failed_permanently: 'A step is in error, so the task can no longer complete.',
    all_steps_complete: 'Every step is complete or resolved manually.',
    give_up: 'No step of the blocked task is in flight any more.',
    resolve_manually: 'An operator resolves the blocked task.',
    cancel: 'A user or the system cancels the task (allowed from every state that is not terminal).',
  },
});

/** True when the table has an edge from `from` to `to`. */
export function canTransition(from: TaskState, to: TaskState): boolean {
  return taskStateMachine.canTransition(from, to);
}

/** The edge from `from` to `to`; throws STATE_CONFLICT naming both when there is none. `subject` names the task. */
export function assertTransition(from: TaskState, to: TaskState, subject?: string): TaskTransition {
  return taskStateMachine.assertTransition(from, to, subject);
}

/** True for complete, error, cancelled and resolved_manually: no edge leaves them. */
export function isTerminal(state: TaskState): boolean {
  return taskStateMachine.isTerminal(state);
}

/** The edges leaving `state`. */
export function transitionsFrom(state: TaskState): readonly TaskTransition[] {
  return taskStateMachine.transitionsFrom(state);
}

/**
 * The same functions with the machine in their name, for modules that use both machines
 * (the task and step machines share state names such as `pending` and `complete`).
 */
export {
  assertTransition as assertTaskTransition,
  canTransition as canTaskTransition,
  isTerminal as isTaskTerminal,
  transitionsFrom as taskTransitionsFrom,
};

/** True when `value` is a task state (for values read from storage). */
export function isTaskState(value: unknown): value is TaskState {
  return taskStateMachine.isState(value);
}
