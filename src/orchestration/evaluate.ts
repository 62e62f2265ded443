import { isInFlight, satisfiesDependencies, type StepState } from '../state/step-state-machine.js';

/** What the orchestrator does with a task after looking at its steps. */
export type TaskDecision =
  'complete' | 'enqueue' | 'fail' | 'blocked' | 'waiting_for_retry' | 'waiting_for_dependencies';

/** A step as the evaluation sees it. */
export interface StepSnapshot {
  state: StepState;
  /** Pending (or retry backoff elapsed) and every parent complete or resolved. */
  viable: boolean;
}

/**
 * Decides a task's next state from its steps. A failed step blocks the task; it fails once
 * no other step is still running, so in-flight work is accounted for before the task ends.
 */
export function decideTask(steps: readonly StepSnapshot[]): TaskDecision {
  if (steps.every((step) => satisfiesDependencies(step.state))) return 'complete';
  const inFlight = steps.some((step) => isInFlight(step.state));
  if (steps.some((step) => step.state === 'error')) return inFlight ? 'blocked' : 'fail';
  if (steps.some((step) => step.viable)) return 'enqueue';
  if (inFlight) return 'waiting_for_dependencies';
  if (steps.some((step) => step.state === 'waiting_for_retry')) return 'waiting_for_retry';
  // Only cancelled steps (or pending ones behind them) remain: nothing can ever run.
  return 'fail';
}
