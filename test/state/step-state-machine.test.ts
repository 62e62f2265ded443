import { describe, expect, it } from 'vitest';
import {
  assertStepTransition,
  assertTransition,
  canTransition,
  isInFlight,
  isStepState,
  isTerminal,
  satisfiesDependencies,
  STEP_EVENTS,
  STEP_STATES,
  STEP_TRANSITIONS,
  stepStateMachine,
  transitionsFrom,
  type StepState,
} from '../../src/state/step-state-machine.js';

// The allowed edges written out by hand, independently of the table.
const EXPECTED = new Set([
  'pending -enqueue-> enqueued',
  'pending -cancel-> cancelled',
  'pending -resolve_manually-> resolved_manually',
  'enqueued -claim-> in_progress',
  'enqueued -cancel-> cancelled',
  'enqueued -resolve_manually-> resolved_manually',
  'in_progress -handler_succeeded-> enqueued_for_orchestration',
  'in_progress -handler_failed-> enqueued_as_error_for_orchestration',
  'in_progress -cancel-> cancelled',
  'enqueued_for_orchestration -result_accepted-> complete',
  'enqueued_for_orchestration -cancel-> cancelled',
  'enqueued_as_error_for_orchestration -retry_scheduled-> waiting_for_retry',
  'enqueued_as_error_for_orchestration -failed_permanently-> error',
  'enqueued_as_error_for_orchestration -cancel-> cancelled',
  'waiting_for_retry -enqueue-> enqueued',
  'waiting_for_retry -cancel-> cancelled',
  'waiting_for_retry -resolve_manually-> resolved_manually',
  'error -resolve_manually-> resolved_manually',
]);
const expectedPair = (from: string, to: string) =>
  [...EXPECTED].some((edge) => edge.startsWith(`${from} -`) && edge.endsWith(`-> ${to}`));

const PAIRS = STEP_STATES.flatMap((from) => STEP_STATES.map((to) => [from, to] as const));

describe('step state machine', () => {
  it('has the ten states of the spec', () => {
    expect(STEP_STATES).toHaveLength(10);
  });

  it('has exactly the expected edges, with their events', () => {
    const actual = STEP_STATES.flatMap((from) =>
      STEP_TRANSITIONS[from].map((edge) => `${from} -${edge.event}-> ${edge.to}`),
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

  it('follows the worker/orchestrator handoff (concrete expectations)', () => {
    expect(canTransition('enqueued', 'in_progress')).toBe(true);
    expect(canTransition('in_progress', 'enqueued_for_orchestration')).toBe(true);
    expect(canTransition('waiting_for_retry', 'enqueued')).toBe(true);
    // Only the orchestrator completes a step, and only from its reported result.
    expect(canTransition('in_progress', 'complete')).toBe(false);
    expect(canTransition('in_progress', 'error')).toBe(false);
    // A lost worker is a failed attempt, not a silent re-enqueue.
    expect(canTransition('in_progress', 'enqueued')).toBe(false);
    expect(canTransition('pending', 'in_progress')).toBe(false);
    expect(canTransition('error', 'pending')).toBe(false);
    expect(canTransition('error', 'cancelled')).toBe(false);
    // A worker holds in_progress steps; results awaiting the orchestrator are not overridden by hand.
    expect(canTransition('in_progress', 'resolved_manually')).toBe(false);
    expect(canTransition('enqueued_for_orchestration', 'resolved_manually')).toBe(false);
    expect(canTransition('complete', 'cancelled')).toBe(false);
    expect(assertTransition('enqueued_as_error_for_orchestration', 'error').event).toBe('failed_permanently');
  });

  it('marks complete, cancelled and resolved_manually terminal; error may still be resolved', () => {
    expect(STEP_STATES.filter((state) => isTerminal(state))).toEqual([
      'complete',
      'cancelled',
      'resolved_manually',
    ]);
    expect(isTerminal('error')).toBe(false);
    for (const state of STEP_STATES) expect(isTerminal(state)).toBe(transitionsFrom(state).length === 0);
  });

  it('reaches every state from pending and uses every event', () => {
    const seen = new Set<StepState>(['pending']);
    const queue: StepState[] = ['pending'];
    for (let state = queue.shift(); state !== undefined; state = queue.shift()) {
      for (const edge of transitionsFrom(state))
        if (!seen.has(edge.to) && seen.add(edge.to)) queue.push(edge.to);
    }
    expect([...seen].sort()).toEqual([...STEP_STATES].sort());
    const used = new Set(STEP_STATES.flatMap((s) => STEP_TRANSITIONS[s].map((e) => e.event)));
    expect([...used].sort()).toEqual([...STEP_EVENTS].sort());
    expect(Object.keys(stepStateMachine.eventDescriptions).sort()).toEqual([...STEP_EVENTS].sort());
    expect(Object.keys(stepStateMachine.stateDescriptions)).toEqual([...STEP_STATES]);
  });

  it('classifies states for the orchestrator', () => {
    expect(STEP_STATES.filter(satisfiesDependencies)).toEqual(['complete', 'resolved_manually']);
    expect(STEP_STATES.filter(isInFlight)).toEqual([
      'enqueued',
      'in_progress',
      'enqueued_for_orchestration',
      'enqueued_as_error_for_orchestration',
    ]);
    // Every in-flight step can still be cancelled.
    for (const state of STEP_STATES.filter(isInFlight)) expect(canTransition(state, 'cancelled')).toBe(true);
  });

  it('names both states in a conflict', () => {
    expect(() => assertStepTransition('complete', 'pending', 'step charge_card')).toThrow(
      'step charge_card cannot go from complete to pending (complete is terminal)',
    );
    expect(() => assertStepTransition('error', 'pending')).toThrow(
      'step cannot go from error to pending (from error it may go to resolved_manually)',
    );
    expect(isStepState('enqueued_as_error_for_orchestration')).toBe(true);
    expect(isStepState('initializing')).toBe(false);
  });
});
