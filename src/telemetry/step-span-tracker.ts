import {
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type Histogram,
  type Meter,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { STEP_RESULTS_QUEUE } from '../engine/queues.js';
import type { StepObserver } from '../worker/step-executor.js';
import type { ClaimedStep } from '../worker/step-claim.js';
import type { AttemptOutcome } from '../worker/step-report.js';
import { ATTR, MESSAGING_SYSTEM } from './attributes.js';
import { METRICS } from './metric-catalog.js';
import { STEP_BEFORE_HANDLE, STEP_HANDLE, STEP_RESULT_SUBMITTED, STEP_SPAN } from './system-events.js';
import { formatTraceParent, parseTraceParent } from './trace-context.js';

/** One attempt in this worker: its span and when its handler started. */
interface Attempt {
  span: Span;
  handlerStartedAt?: number;
}

/** Step observer that also ends the spans of attempts still open (worker shutdown). */
export interface StepSpanTracker extends StepObserver {
  /** Attempts whose span is open. */
  readonly open: number;
  /** Ends every open span with an error status (the worker stops without reporting them). */
  close(): void;
}

/** Bucket bounds of the step duration histogram, in seconds: 1 ms to 5 minutes. */
export const STEP_DURATION_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
];

const key = (step: ClaimedStep): string => `${step.step_uuid}:${step.attempt}`;

/** The attributes of every `step.result_submitted` event (the SDK copies what it is given). */
const RESULT_SUBMITTED_ATTRIBUTES: Attributes = Object.freeze({
  [ATTR.messagingSystem]: MESSAGING_SYSTEM,
  [ATTR.messagingDestination]: STEP_RESULTS_QUEUE,
});

/**
 * Records one live `step.execution` span per attempt a worker runs: started when the claim
 * committed, a child of the task span named by the message's `traceparent` header (the task
 * span itself is recorded later, when the task finishes), with `step.before_handle`,
 * `step.handle` and `step.result_submitted` events, ended OK or in error. Also records the
 * handler duration histogram.
 */
export function createStepSpanTracker(tracer: Tracer, meter: Meter): StepSpanTracker {
  const attempts = new Map<string, Attempt>();
  const duration: Histogram = meter.createHistogram(METRICS.stepDuration.name, {
    description: METRICS.stepDuration.description,
    unit: METRICS.stepDuration.unit,
    advice: { explicitBucketBoundaries: [...STEP_DURATION_BUCKETS] },
  });

  return {
    get open() {
      return attempts.size;
    },

    attemptStarted(step, headers, message) {
      const parent = parseTraceParent(headers.traceparent);
      const context = parent
        ? trace.setSpanContext(ROOT_CONTEXT, {
            traceId: parent.traceId,
            spanId: parent.spanId,
            traceFlags: parent.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
            isRemote: true,
          })
        : ROOT_CONTEXT;
      // Built by assignment: object spread costs several times more, once per attempt.
      const attributes: Attributes = {};
      attributes[ATTR.taskUuid] = step.task_uuid;
      attributes[ATTR.namespace] = step.namespace;
      attributes[ATTR.taskName] = step.task_name;
      attributes[ATTR.taskVersion] = step.version;
      attributes[ATTR.stepName] = step.step_name;
      attributes[ATTR.stepUuid] = step.step_uuid;
      attributes[ATTR.stepAttempt] = step.attempt;
      attributes[ATTR.messagingSystem] = MESSAGING_SYSTEM;
      if (message) {
        attributes[ATTR.messagingDestination] = message.queue;
        attributes[ATTR.messagingMessageId] = String(message.msgId);
      }
      const span = tracer.startSpan(STEP_SPAN, { kind: SpanKind.CONSUMER, attributes }, context);
      attempts.set(key(step), { span });
    },

    traceParent(step) {
      const span = attempts.get(key(step))?.span;
      if (!span) return undefined;
      const context = span.spanContext();
      // A span of the no-op API (no SDK installed) has an invalid, all-zero context.
      if (!isSpanContextValid(context)) return undefined;
      const { traceId, spanId, traceFlags } = context;
      return formatTraceParent({ traceId, spanId, sampled: (traceFlags & TraceFlags.SAMPLED) !== 0 });
    },

    beforeHandle(step) {
      const attempt = attempts.get(key(step));
      if (!attempt) return;
      attempt.handlerStartedAt = performance.now();
      attempt.span.addEvent(STEP_BEFORE_HANDLE);
    },

    afterHandle(step, outcome) {
      const attempt = attempts.get(key(step));
      if (!attempt || attempt.handlerStartedAt === undefined) return;
      const ms = performance.now() - attempt.handlerStartedAt;
      const result = outcome.ok ? 'success' : 'failure';
      attempt.span.addEvent(STEP_HANDLE, { [ATTR.stepOutcome]: result, [ATTR.handlerDurationMs]: ms });
      // The exception event belongs where the handler failed, before the result is submitted.
      if (!outcome.ok)
        attempt.span.recordException({ name: outcome.error.name, message: outcome.error.message });
      duration.record(ms / 1000, { namespace: step.namespace, step_name: step.step_name, outcome: result });
    },

    attemptFinished(step, outcome: AttemptOutcome, reported) {
      const attempt = attempts.get(key(step));
      if (!attempt) return;
      attempts.delete(key(step));
      const { span } = attempt;
      if (reported) {
        span.addEvent(STEP_RESULT_SUBMITTED, RESULT_SUBMITTED_ATTRIBUTES);
      } else {
        span.setAttribute(ATTR.resultDiscarded, true);
      }
      if (outcome.ok) {
        span.setStatus({ code: SpanStatusCode.OK });
      } else {
        const { name, message } = outcome.error;
        span.setAttribute(ATTR.errorType, name);
        span.setStatus({ code: SpanStatusCode.ERROR, message: `${name}: ${message}` });
      }
      span.end();
    },

    close() {
      for (const { span } of attempts.values()) {
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: 'the worker stopped before reporting the attempt',
        });
        span.end();
      }
      attempts.clear();
    },
  };
}
