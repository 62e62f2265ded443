import { describe, expect, it } from 'vitest';
import {
  taskSpanEvents,
  taskSpanOutline,
  type StepTransitionRecord,
  type TaskHistory,
  type TransitionRecord,
} from '../../src/telemetry/task-span-events.js';

const T0 = 1_764_000_000_000_000;
const A = '0190a000-0000-7000-8000-00000000000a';
const B = '0190a000-0000-7000-8000-00000000000b';

let seq = 0;
const task = (
  atUs: number,
  from: string | null,
  to: string,
  metadata: Record<string, unknown> = {},
): TransitionRecord => ({
  from,
  to,
  metadata,
  atUs,
  seq: ++seq,
});
const step = (
  atUs: number,
  stepUuid: string,
  from: string | null,
  to: string,
  metadata: Record<string, unknown> = {},
): StepTransitionRecord => ({
  from,
  to,
  metadata,
  atUs,
  seq: ++seq,
  stepUuid,
  stepName: stepUuid === A ? 'a' : 'b',
});

function history(
  taskTransitions: TransitionRecord[],
  stepTransitions: StepTransitionRecord[],
  status: string,
  steps: TaskHistory['steps'] = [
    { stepUuid: A, name: 'a', state: 'complete', errorName: null, errorMessage: null },
    { stepUuid: B, name: 'b', state: 'complete', errorName: null, errorMessage: null },
  ],
): TaskHistory {
  const last = taskTransitions.at(-1)!;
  return {
    task: {
      taskUuid: '0190a000-0000-7000-8000-000000000001',
      namespace: 'ns',
      name: 'flow',
      version: '1.0.0',
      correlationId: 'c-1',
      status,
      createdUs: taskTransitions[0]!.atUs,
      completedUs: last.atUs,
      traceparent: null,
      parentTraceparent: null,
    },
    taskTransitions,
    stepTransitions,
    steps,
  };
}

const names = (h: TaskHistory): string[] => taskSpanEvents(h).map((event) => event.name);

describe('taskSpanEvents', () => {
  it('orders the transitions of one transaction logically, whatever order they were written in', () => {
    // One transaction (one timestamp): the steps enqueued were written before the task path.
    const h = history(
      [
        task(T0, null, 'pending'),
        task(T0 + 5, 'pending', 'initializing'),
        task(T0 + 5, 'initializing', 'enqueuing_steps'),
        task(T0 + 5, 'enqueuing_steps', 'steps_in_process'),
      ],
      [
        step(T0 + 5, B, 'pending', 'enqueued', { attempt: 1 }),
        step(T0, B, null, 'pending'),
        step(T0, A, null, 'pending'),
      ],
      'steps_in_process',
    );
    expect(names(h)).toEqual([
      'task.before_transition',
      'step.before_transition',
      'step.initialize_requested',
      'step.before_transition',
      'step.initialize_requested',
      'task.before_transition',
      'task.start_requested',
      'workflow.task_started',
      'task.before_transition',
      'task.steps_discovery_completed',
      'workflow.viable_steps_discovered',
      'step.before_transition',
      'step.enqueue_requested',
      'task.before_transition',
      'task.steps_enqueued',
    ]);
    // Step creation in template order (a before b), although b's row came first.
    const created = taskSpanEvents(h).filter((event) => event.name === 'step.initialize_requested');
    expect(created.map((event) => event.attributes['tasker.step.name'])).toEqual(['a', 'b']);
    const discovered = taskSpanEvents(h).find((event) => event.name === 'task.steps_discovery_completed');
    expect(discovered?.attributes).toEqual({ 'tasker.steps.names': ['b'], 'tasker.steps.count': 1 });
  });

  it('tells what triggered an evaluation: a result, a retry coming due or a manual resolution', () => {
    const triggers = (h: TaskHistory): unknown[] =>
      taskSpanEvents(h)
        .filter((event) => event.name === 'workflow.orchestration_requested')
        .map((event) => event.attributes['tasker.orchestration.trigger']);
    const base = [task(T0, null, 'pending')];
    expect(
      triggers(
        history(
          [
            ...base,
            task(T0 + 1, 'blocked_by_failures', 'evaluating_results'),
            task(T0 + 1, 'evaluating_results', 'complete'),
          ],
          [step(T0 + 1, A, 'error', 'resolved_manually', { manual: true, reason: 'fixed by hand' })],
          'complete',
        ),
      ),
    ).toEqual(['manual_resolution']);
    const retried = history(
      [
        ...base,
        task(T0 + 2, 'waiting_for_retry', 'evaluating_results'),
        task(T0 + 2, 'evaluating_results', 'enqueuing_steps'),
      ],
      [step(T0 + 2, A, 'waiting_for_retry', 'enqueued', { attempt: 2 })],
      'enqueuing_steps',
    );
    expect(triggers(retried)).toEqual(['retry_due']);
    expect(names(retried)).toContain('task.retry_requested');
    expect(names(retried)).not.toContain('task.step_results_received');
  });

  it('emits task.step_results_received once per result accepted in the transaction', () => {
    const h = history(
      [
        task(T0, null, 'pending'),
        task(T0 + 3, 'steps_in_process', 'evaluating_results'),
        task(T0 + 3, 'evaluating_results', 'complete'),
      ],
      [
        step(T0 + 3, A, 'enqueued_for_orchestration', 'complete', { attempt: 1 }),
        step(T0 + 3, B, 'enqueued_for_orchestration', 'complete', { attempt: 2 }),
      ],
      'complete',
    );
    const received = taskSpanEvents(h).filter((event) => event.name === 'task.step_results_received');
    expect(received.map((event) => event.attributes)).toEqual([
      {
        'tasker.step.name': 'a',
        'tasker.step.attempt': 1,
        'tasker.step.state': 'complete',
      },
      {
        'tasker.step.name': 'b',
        'tasker.step.attempt': 2,
        'tasker.step.state': 'complete',
      },
    ]);
    // Settled steps come before the evaluation they triggered.
    expect(names(h).indexOf('workflow.step_completed')).toBeLessThan(
      names(h).indexOf('workflow.orchestration_requested'),
    );
  });

  it('marks a lost attempt and names the worker of a claim', () => {
    const h = history(
      [task(T0, null, 'pending')],
      [
        step(T0 + 1, A, 'enqueued', 'in_progress', { attempt: 1, worker: 'w-1' }),
        step(T0 + 2, A, 'in_progress', 'enqueued_as_error_for_orchestration', { attempt: 1, lost: true }),
      ],
      'steps_in_process',
    );
    expect(
      taskSpanEvents(h)
        .slice(1)
        .map((event) => event.attributes),
    ).toEqual([
      {
        'tasker.step.name': 'a',
        'tasker.step.attempt': 1,
        'tasker.transition.from': 'enqueued',
        'tasker.transition.to': 'in_progress',
        'tasker.worker.id': 'w-1',
      },
      {
        'tasker.step.name': 'a',
        'tasker.step.attempt': 1,
        'tasker.transition.from': 'in_progress',
        'tasker.transition.to': 'enqueued_as_error_for_orchestration',
        'tasker.step.lost': true,
      },
    ]);
  });
});

describe('taskSpanOutline', () => {
  it('names the failed step and its error for a task in error', () => {
    const h = history(
      [task(T0, null, 'pending'), task(T0 + 9, 'blocked_by_failures', 'error')],
      [],
      'error',
      [
        { stepUuid: A, name: 'a', state: 'complete', errorName: null, errorMessage: null },
        {
          stepUuid: B,
          name: 'b',
          state: 'error',
          errorName: 'StepTimeoutError',
          errorMessage: 'step b timed out after 1s',
        },
      ],
    );
    expect(taskSpanOutline(h)).toEqual({
      startUs: T0,
      endUs: T0 + 9,
      attributes: {
        'tasker.task.uuid': h.task.taskUuid,
        'tasker.namespace': 'ns',
        'tasker.task.name': 'flow',
        'tasker.task.version': '1.0.0',
        'tasker.task.correlation_id': 'c-1',
        'tasker.task.state': 'error',
        'error.type': 'StepTimeoutError',
      },
      status: 'error',
      statusMessage: 'step b failed: StepTimeoutError: step b timed out after 1s',
      errorCode: 'StepTimeoutError',
    });
  });

  it('leaves the status of a cancelled task unset and sets OK for a complete one', () => {
    const transitions = [task(T0, null, 'pending'), task(T0 + 1, 'pending', 'cancelled')];
    expect(taskSpanOutline(history(transitions, [], 'cancelled')).status).toBe('unset');
    expect(taskSpanOutline(history(transitions, [], 'complete')).status).toBe('ok');
  });
});
