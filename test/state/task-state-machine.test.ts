import { describe, expect, it } from 'vitest';
import {
  assertTaskTransition,
  assertTransition,
  canTransition,
  isTaskState,
  isTerminal,
  TASK_EVENTS,
  TASK_STATES,
  TASK_TRANSITIONS,
  taskStateMachine,
  transitionsFrom,
  type TaskState,
} from '../../src/state/task-state-machine.js';

// The allowed edges written out by hand, independently of the table: if the table changes,
// this list must be changed on purpose too.
const NON_TERMINAL: TaskState[] = [
  'pending',
  'initializing',
  'enqueuing_steps',
  'steps_in_process',
  'evaluating_results',
  'waiting_for_dependencies',
  'waiting_for_retry',
  'blocked_by_failures',
];
const EXPECTED = new Set([
  'pending -start-> initializing',
  'initializing -ready_steps_found-> enqueuing_steps',
  'enqueuing_steps -steps_enqueued-> steps_in_process',
  'steps_in_process -step_result_received-> evaluating_results',
  'evaluating_results -ready_steps_found-> enqueuing_steps',
  'evaluating_results -awaiting_dependencies-> waiting_for_dependencies',
  'evaluating_results -awaiting_retry-> waiting_for_retry',
  'evaluating_results -step_failed_permanently-> blocked_by_failures',
  'evaluating_results -all_steps_complete-> complete',
  'waiting_for_dependencies -step_result_received-> evaluating_results',
  'waiting_for_dependencies -retry_due-> enqueuing_steps',
  'waiting_for_retry -retry_due-> enqueuing_steps',
  'waiting_for_retry -step_result_received-> evaluating_results',
  'blocked_by_failures -give_up-> error',
  'blocked_by_failures -resolve_manually-> resolved_manually',
  'blocked_by_failures -step_result_received-> evaluating_results',
  ...NON_TERMINAL.map((state) => `${state} -cancel-> cancelled`),
]);
const expectedPair = (from: string, to: string) =>
  [...EXPECTED].some((edge) => edge.startsWith(`${from} -`) && edge.endsWith(`-> ${to}`));

const PAIRS = TASK_STATES.flatMap((from) => TASK_STATES.map((to) => [from, to] as const));

describe('task state machine', () => {
  it('has the twelve states of the spec', () => {
    expect([...TASK_STATES].sort()).toEqual(
      [
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
      ].sort(),
    );
  });

  it('has exactly the expected edges, with their events', () => {
    const actual = TASK_STATES.flatMap((from) =>
      TASK_TRANSITIONS[from].map((edge) => `${from} -${edge.event}-> ${edge.to}`),
    );
    expect(new Set(actual)).toEqual(EXPECTED);
    expect(actual).toHaveLength(EXPECTED.size);
  });

  it.each(PAIRS)('%s -> %s is allowed exactly when expected', (from, to) => {
    const allowed = expectedPair(from, to);
    expect(canTransition(from, to)).toBe(allowed);
    if (allowed) {
      expect(assertTransition(from, to).to).toBe(to);
    } else {
      expect(() => assertTransition(from, to)).toThrow(expect.objectContaining({ code: 'STATE_CONFLICT' }));
    }
  });

  it('follows the main path and refuses shortcuts (concrete expectations)', () => {
    expect(canTransition('pending', 'initializing')).toBe(true);
    expect(canTransition('evaluating_results', 'complete')).toBe(true);
    expect(canTransition('blocked_by_failures', 'error')).toBe(true);
    expect(canTransition('pending', 'complete')).toBe(false);
    expect(canTransition('steps_in_process', 'complete')).toBe(false);
    expect(canTransition('evaluating_results', 'error')).toBe(false);
    expect(canTransition('complete', 'pending')).toBe(false);
    expect(canTransition('error', 'pending')).toBe(false);
    expect(canTransition('cancelled', 'cancelled')).toBe(false);
    expect(canTransition('pending', 'pending')).toBe(false);
    expect(assertTransition('evaluating_results', 'blocked_by_failures').event).toBe(
      'step_failed_permanently',
    );
  });

  it('marks exactly complete, error, cancelled and resolved_manually terminal', () => {
    expect(TASK_STATES.filter((state) => isTerminal(state))).toEqual([
      'complete',
      'error',
      'cancelled',
      'resolved_manually',
    ]);
    for (const state of TASK_STATES) expect(isTerminal(state)).toBe(transitionsFrom(state).length === 0);
  });

  it('lets every non-terminal state be cancelled and reach a terminal state', () => {
    for (const state of TASK_STATES.filter((s) => !isTerminal(s))) {
      expect(canTransition(state, 'cancelled')).toBe(true);
      expect(reachable(state).has('complete') || reachable(state).has('error')).toBe(true);
    }
  });

  it('reaches every state from pending and uses every event', () => {
    expect([...reachable('pending')].sort()).toEqual([...TASK_STATES].sort());
    const used = new Set(TASK_STATES.flatMap((s) => TASK_TRANSITIONS[s].map((e) => e.event)));
    expect([...used].sort()).toEqual([...TASK_EVENTS].sort());
    expect(Object.keys(taskStateMachine.eventDescriptions).sort()).toEqual([...TASK_EVENTS].sort());
    expect(Object.keys(taskStateMachine.stateDescriptions)).toEqual([...TASK_STATES]);
  });

  it('names both states, and the task, in a conflict', () => {
    expect(() => assertTransition('complete', 'pending', 'task 0190abcd')).toThrow(
      'task 0190abcd cannot go from complete to pending (complete is terminal)',
    );
    expect(() => assertTaskTransition('steps_in_process', 'complete')).toThrow(
      'task cannot go from steps_in_process to complete (from steps_in_process it may go to evaluating_results, cancelled)',
    );
  });

  it('recognises task states read from storage', () => {
    expect(isTaskState('waiting_for_retry')).toBe(true);
    expect(isTaskState('in_progress')).toBe(false);
    expect(isTaskState('toString')).toBe(false);
    expect(() => assertTransition('bogus' as TaskState, 'pending')).toThrow('bogus is not a task state');
  });
});

function reachable(start: TaskState): Set<TaskState> {
  const seen = new Set<TaskState>([start]);
  const queue = [start];
  for (let state = queue.shift(); state !== undefined; state = queue.shift()) {
    for (const edge of transitionsFrom(state)) {
      if (!seen.has(edge.to)) {
        seen.add(edge.to);
        queue.push(edge.to);
      }
    }
  }
  return seen;
}
