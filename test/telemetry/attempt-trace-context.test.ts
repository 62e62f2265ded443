/**
 * The trace context a worker stamps on the domain events of an attempt: the attempt's own
 * `step.execution` span when telemetry records one (a child of the task span named by the
 * claim's header), and the first answer when several observers are merged.
 */
import { metrics, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { createStepSpanTracker } from '../../src/telemetry/step-span-tracker.js';
import { mergeObservers } from '../../src/telemetry/merge-observers.js';
import { formatTraceParent, parseTraceParent } from '../../src/telemetry/trace-context.js';
import type { ClaimedStep } from '../../src/worker/step-claim.js';
import type { StepObserver } from '../../src/worker/step-executor.js';
import { createRecorder, type Recorder } from './support/recorder.js';

const TASK_TRACEPARENT = formatTraceParent({
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  sampled: true,
});

const step: ClaimedStep = {
  step_uuid: '01930000-0000-7000-8000-000000000001',
  step_name: 'charge',
  attempt: 1,
  claim_id: '00000000-0000-4000-8000-000000000001',
  handler_callable: 'charge',
  handler_initialization: {},
  timeout_seconds: 30,
  task_uuid: '01930000-0000-7000-8000-000000000000',
  namespace: 'payments',
  task_name: 'checkout',
  version: '1.0.0',
  correlation_id: 'c-1',
  context: {},
  dependency_results: {},
};

describe('trace context of an attempt', () => {
  let recorder: Recorder | undefined;
  afterEach(async () => recorder?.shutdown());

  it("is the attempt's span, a child of the task span, while the attempt runs", () => {
    recorder = createRecorder();
    const tracker = createStepSpanTracker(
      recorder.tracerProvider.getTracer('test'),
      recorder.meterProvider.getMeter('test'),
    );
    expect(tracker.traceParent?.(step)).toBeUndefined();
    tracker.attemptStarted?.(step, { traceparent: TASK_TRACEPARENT });
    const current = parseTraceParent(tracker.traceParent?.(step));
    tracker.attemptFinished?.(step, { ok: true, result: null }, true);

    const [span] = recorder.spans();
    expect(current).toEqual({
      traceId: span!.spanContext().traceId,
      spanId: span!.spanContext().spanId,
      sampled: true,
    });
    expect(current?.traceId).toBe(parseTraceParent(TASK_TRACEPARENT)?.traceId);
    expect(span!.parentSpanContext?.spanId).toBe(parseTraceParent(TASK_TRACEPARENT)?.spanId);
    expect(tracker.traceParent?.(step)).toBeUndefined();
  });

  it('is none without an SDK, where spans have no valid context', () => {
    const tracker = createStepSpanTracker(trace.getTracer('no-sdk'), metrics.getMeter('no-sdk'));
    tracker.attemptStarted?.({ ...step, attempt: 2 }, {});
    expect(tracker.traceParent?.({ ...step, attempt: 2 })).toBeUndefined();
  });

  it('comes from the first merged observer that has one', () => {
    const silent: StepObserver = { traceParent: () => undefined };
    const answering: StepObserver = { traceParent: () => TASK_TRACEPARENT };
    const other: StepObserver = { traceParent: () => 'not this one' };
    expect(mergeObservers(silent, answering, other)?.traceParent?.(step)).toBe(TASK_TRACEPARENT);
    expect(mergeObservers(silent, {})?.traceParent?.(step)).toBeUndefined();
  });
});
