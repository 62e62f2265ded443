/**
 * The workflow step state machine: the contract orchestrators and workers follow when they move
 * a step. The orchestrator enqueues and settles steps; a worker only claims a step and reports
 * its handler's outcome. Pure; docs/state-machines.md is rendered from this table.
 *
 * A worker that dies mid-handler leaves its step in_progress; PGMQ makes the message visible
 * again after the visibility timeout (set beyond the step's timeout_seconds, so the first
 * holder has given up by then). The worker that reads it finds the step still in_progress and
 * reports that attempt as lost, a failure (in_progress -> enqueued_as_error_for_orchestration),
 * so the retry policy and attempt count apply as to any failure. Hence no in_progress -> enqueued
 * edge: re-running without counting an attempt would let a step that kills its worker loop
 * forever. A message that finds its step in any other state is stale and is archived.
 */
import { defineStateMachine, type Edge } from './machine.js';

/** Every step state. */
export const STEP_STATES = [
  'pending',
  'enqueued',
  'in_progress',
  'enqueued_for_orchestration',
  'enqueued_as_error_for_orchestration',
  'waiting_for_retry',
  'complete',
  'error',
  'cancelled',
  'resolved_manually',
] as const;

/** A step's state. */
export type StepState = (typeof STEP_STATES)[number];

/** Every event that moves a step. */
export const STEP_EVENTS = [
  'enqueue',
  'claim',
  'handler_succeeded',
  'handler_failed',
  'result_accepted',
  'retry_scheduled',
  'failed_permanently',
  'cancel',
  'resolve_manually',
] as const;

/** An event that moves a step. */
export type StepEvent = (typeof STEP_EVENTS)[number];

/** One allowed step transition. */
export type StepTransition = Edge<StepState, StepEvent>;

const cancel: StepTransition = { event: 'cancel', to: 'cancelled' };
const resolve: StepTransition = { event: 'resolve_manually', to: 'resolved_manually' };

/** The transition table: for each state, the edges leaving it. Terminal states have none. */
export const STEP_TRANSITIONS: Readonly<Record<StepState, readonly StepTransition[]>> = {
  pending: [{ event: 'enqueue', to: 'enqueued' }, cancel, resolve],
  enqueued: [{ event: 'claim', to: 'in_progress' }, cancel, resolve],
  in_progress: [
    { event: 'handler_succeeded', to: 'enqueued_for_orchestration' },
    { event: 'handler_failed', to: 'enqueued_as_error_for_orchestration' },
    cancel,
  ],
  enqueued_for_orchestration: [{ event: 'result_accepted', to: 'complete' }, cancel],
  enqueued_as_error_for_orchestration: [
    { event: 'retry_scheduled', to: 'waiting_for_retry' },
    { event: 'failed_permanently', to: 'error' },
    cancel,
  ],
  waiting_for_retry: [{ event: 'enqueue', to: 'enqueued' }, cancel, resolve],
  error: [resolve],
  complete: [],
  cancelled: [],
  resolved_manually: [],
};

/** The step machine: states, table, descriptions and checks in one object. */
export const stepStateMachine = defineStateMachine<StepState, StepEvent>({
  subject: 'step',
  states: STEP_STATES,
  initial: 'pending',
  transitions: STEP_TRANSITIONS,
  stateDescriptions: {
    pending: 'Created with its task; waits for its dependencies to be complete or resolved manually.',
    enqueued: "Sent to the namespace's worker queue; no worker has claimed it yet.",
    in_progress:
      'A worker claimed it and runs the handler (one attempt). If the worker dies, the message is redelivered after its visibility timeout; the worker that reads it finds the step still in_progress and reports the attempt as lost (a failure), so the retry policy applies.',
    enqueued_for_orchestration:
      'The handler returned; the result is stored and announced on the orchestration queue for the orchestrator to accept.',
    enqueued_as_error_for_orchestration:
      'The handler threw, timed out or was missing; the error is stored and announced on the orchestration queue for the orchestrator to judge.',
    waiting_for_retry:
      'A retryable failure with attempts left; waits for its backoff, then is enqueued again.',
    complete: 'Its result is accepted; dependent steps may run. Terminal.',
    error:
      'Failed for good: not retryable, attempts exhausted or a PermanentError. Stays so unless an operator resolves it, which is the only way out.',
    cancelled: 'Its task was cancelled before the step finished. Terminal; a late result for it is refused.',
    resolved_manually: 'An operator resolved it by hand; it counts as complete for its dependents. Terminal.',
  },
  eventDescriptions: {
    enqueue:
      'The orchestrator sends the step to the worker queue: its dependencies are satisfied, or its retry came due.',
    claim: "A worker reads the step's message and starts the handler; the attempt count goes up by one.",
    handler_succeeded: 'The handler returned a JSON-serialisable result.',
    handler_failed:
      'The handler threw, exceeded timeout_seconds, returned something not JSON-serialisable or is not registered; or its worker died (the redelivered message finds the attempt still in_progress).',
    result_accepted: 'The orchestrator processes the success result.',
    retry_scheduled:
      'The orchestrator processes the error: the step is retryable, the error is not permanent and attempts remain.',
    failed_permanently:
      'The orchestrator processes the error: retryable is false, attempts are exhausted or the error is permanent.',
    cancel: 'The task is cancelled; every step that has not finished is cancelled with it.',
    resolve_manually: 'An operator resolves a step that no worker holds (`tasker step resolve`).',
  },
});

/** True when the table has an edge from `from` to `to`. */
export function canTransition(from: StepState, to: StepState): boolean {
  return stepStateMachine.canTransition(from, to);
}

/** The edge from `from` to `to`; throws STATE_CONFLICT naming both when there is none. `subject` names the step. */
export function assertTransition(from: StepState, to: StepState, subject?: string): StepTransition {
  return stepStateMachine.assertTransition(from, to, subject);
}

/** True for complete, cancelled and resolved_manually: no edge leaves them (error still may be resolved). */
export function isTerminal(state: StepState): boolean {
  return stepStateMachine.isTerminal(state);
}

/** The edges leaving `state`. */
export function transitionsFrom(state: StepState): readonly StepTransition[] {
  return stepStateMachine.transitionsFrom(state);
}

/**
 * The same functions with the machine in their name, for modules that use both machines
 * (the task and step machines share state names such as `pending` and `complete`).
 */
export {
  assertTransition as assertStepTransition,
  canTransition as canStepTransition,
  isTerminal as isStepTerminal,
  transitionsFrom as stepTransitionsFrom,
};

/** True when `value` is a step state (for values read from storage). */
export function isStepState(value: unknown): value is StepState {
  return stepStateMachine.isState(value);
}

/** States in which a step counts as done for the steps that depend on it. */
export const DEPENDENCY_SATISFIED_STATES: readonly StepState[] = ['complete', 'resolved_manually'];

/** States in which a step is on a queue or in a worker's hands: the orchestrator awaits its outcome. */
export const IN_FLIGHT_STATES: readonly StepState[] = [
  'enqueued',
  'in_progress',
  'enqueued_for_orchestration',
  'enqueued_as_error_for_orchestration',
];

/** True when dependents of a step in `state` may run. */
export function satisfiesDependencies(state: StepState): boolean {
  return DEPENDENCY_SATISFIED_STATES.includes(state);
}

/** True when a step in `state` is on a queue or running. */
export function isInFlight(state: StepState): boolean {
  return IN_FLIGHT_STATES.includes(state);
}
