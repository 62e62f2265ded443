/**
 * The 34 system events of spec 1.1 (tier 1) and what each one becomes in OpenTelemetry: a
 * span start, a span event, a span end, a counter, a gauge or a histogram. System events are
 * telemetry only: nothing here can be subscribed to, and their names are reserved for them
 * (domain events under `task.`, `step.` and `workflow.` are refused). Pure data;
 * docs/telemetry.md is rendered from it (src/telemetry/audit-doc.ts).
 */
import { ATTR, type AttributeName } from './attributes.js';
import type { MetricKey } from './metric-catalog.js';

// Task lifecycle events (14)
/** Task creation initiated. */
export const TASK_INITIALIZE_REQUESTED = 'task.initialize_requested';
/** Task processing begins. */
export const TASK_START_REQUESTED = 'task.start_requested';
/** Task successfully finished. */
export const TASK_COMPLETED = 'task.completed';
/** Task failed permanently. */
export const TASK_FAILED = 'task.failed';
/** Task queued for retry. */
export const TASK_RETRY_REQUESTED = 'task.retry_requested';
/** Task cancelled by user/system. */
export const TASK_CANCELLED = 'task.cancelled';
/** Manual resolution applied. */
export const TASK_RESOLVED_MANUALLY = 'task.resolved_manually';
/** State transition starting. */
export const TASK_BEFORE_TRANSITION = 'task.before_transition';
/** Ready steps identified. */
export const TASK_STEPS_DISCOVERY_COMPLETED = 'task.steps_discovery_completed';
/** Steps sent to worker queues. */
export const TASK_STEPS_ENQUEUED = 'task.steps_enqueued';
/** Worker results received. */
export const TASK_STEP_RESULTS_RECEIVED = 'task.step_results_received';
/** Waiting for dependencies. */
export const TASK_AWAITING_DEPENDENCIES = 'task.awaiting_dependencies';
/** In exponential backoff. */
export const TASK_RETRY_BACKOFF_STARTED = 'task.retry_backoff_started';
/** Blocked by step failures. */
export const TASK_BLOCKED_BY_FAILURES = 'task.blocked_by_failures';

// Step lifecycle events (12)
/** Step created. */
export const STEP_INITIALIZE_REQUESTED = 'step.initialize_requested';
/** Queuing to worker. */
export const STEP_ENQUEUE_REQUESTED = 'step.enqueue_requested';
/** Worker claimed step. */
export const STEP_EXECUTION_REQUESTED = 'step.execution_requested';
/** Handler invocation starting. */
export const STEP_BEFORE_HANDLE = 'step.before_handle';
/** Handler executing (recorded when it returned). */
export const STEP_HANDLE = 'step.handle';
/** Step finished successfully. */
export const STEP_COMPLETED = 'step.completed';
/** Step failed. */
export const STEP_FAILED = 'step.failed';
/** Step retry queued. */
export const STEP_RETRY_REQUESTED = 'step.retry_requested';
/** Step cancelled. */
export const STEP_CANCELLED = 'step.cancelled';
/** Manual resolution. */
export const STEP_RESOLVED_MANUALLY = 'step.resolved_manually';
/** State transition starting. */
export const STEP_BEFORE_TRANSITION = 'step.before_transition';
/** Result sent to orchestration. */
export const STEP_RESULT_SUBMITTED = 'step.result_submitted';

// Workflow orchestration events (8)
/** Workflow processing started. */
export const WORKFLOW_TASK_STARTED = 'workflow.task_started';
/** Workflow finished. */
export const WORKFLOW_TASK_COMPLETED = 'workflow.task_completed';
/** Workflow failed. */
export const WORKFLOW_TASK_FAILED = 'workflow.task_failed';
/** Single step done. */
export const WORKFLOW_STEP_COMPLETED = 'workflow.step_completed';
/** Single step failed. */
export const WORKFLOW_STEP_FAILED = 'workflow.step_failed';
/** Ready steps found. */
export const WORKFLOW_VIABLE_STEPS_DISCOVERED = 'workflow.viable_steps_discovered';
/** No steps ready. */
export const WORKFLOW_NO_VIABLE_STEPS = 'workflow.no_viable_steps';
/** Orchestration cycle triggered. */
export const WORKFLOW_ORCHESTRATION_REQUESTED = 'workflow.orchestration_requested';

/** The name of a system event. */
export type SystemEventName =
  | typeof TASK_INITIALIZE_REQUESTED
  | typeof TASK_START_REQUESTED
  | typeof TASK_COMPLETED
  | typeof TASK_FAILED
  | typeof TASK_RETRY_REQUESTED
  | typeof TASK_CANCELLED
  | typeof TASK_RESOLVED_MANUALLY
  | typeof TASK_BEFORE_TRANSITION
  | typeof TASK_STEPS_DISCOVERY_COMPLETED
  | typeof TASK_STEPS_ENQUEUED
  | typeof TASK_STEP_RESULTS_RECEIVED
  | typeof TASK_AWAITING_DEPENDENCIES
  | typeof TASK_RETRY_BACKOFF_STARTED
  | typeof TASK_BLOCKED_BY_FAILURES
  | typeof STEP_INITIALIZE_REQUESTED
  | typeof STEP_ENQUEUE_REQUESTED
  | typeof STEP_EXECUTION_REQUESTED
  | typeof STEP_BEFORE_HANDLE
  | typeof STEP_HANDLE
  | typeof STEP_COMPLETED
  | typeof STEP_FAILED
  | typeof STEP_RETRY_REQUESTED
  | typeof STEP_CANCELLED
  | typeof STEP_RESOLVED_MANUALLY
  | typeof STEP_BEFORE_TRANSITION
  | typeof STEP_RESULT_SUBMITTED
  | typeof WORKFLOW_TASK_STARTED
  | typeof WORKFLOW_TASK_COMPLETED
  | typeof WORKFLOW_TASK_FAILED
  | typeof WORKFLOW_STEP_COMPLETED
  | typeof WORKFLOW_STEP_FAILED
  | typeof WORKFLOW_VIABLE_STEPS_DISCOVERED
  | typeof WORKFLOW_NO_VIABLE_STEPS
  | typeof WORKFLOW_ORCHESTRATION_REQUESTED;

/** The span of a task, from its creation to its final state; one per task. */
export const TASK_SPAN = 'task.orchestration';
/** The span of one step attempt in a worker, a child of its task's span. */
export const STEP_SPAN = 'step.execution';
/** A span Tasker records. */
export type SpanName = typeof TASK_SPAN | typeof STEP_SPAN;

/**
 * What an event becomes. `span_end_ok` / `span_end_error` end the span with status OK / ERROR;
 * `span_end` ends it with the status left unset (neither success nor failure: a cancellation).
 */
export type TelemetryKind =
  | 'span_start'
  | 'span_event'
  | 'span_end'
  | 'span_end_ok'
  | 'span_end_error'
  | 'counter'
  | 'gauge'
  | 'histogram';

/** One telemetry signal an event produces. */
export interface TelemetryMapping {
  kind: TelemetryKind;
  /** The span started, ended or carrying the event (span kinds). */
  span?: SpanName;
  /** The metric (counter, gauge and histogram kinds). */
  metric?: MetricKey;
  /** The moment in the engine that produces it. */
  when: string;
  /** Attributes the span event carries (span_event only; the span's own are documented with it). */
  attributes?: readonly AttributeName[];
  /** Where in the code it is emitted: file and function. */
  emittedAt: string;
}

/** One system event and its telemetry. */
export interface SystemEventDefinition {
  /** The constant's name, as the spec writes it. */
  constant: string;
  name: SystemEventName;
  group: 'task' | 'step' | 'workflow';
  /** The spec's "Purpose" column. */
  purpose: string;
  telemetry: readonly TelemetryMapping[];
  /** Why it may never be emitted in a deployment, when that is so. */
  reason?: string;
}

/** Where the task span's events come from: rebuilt from the persisted transitions at the end. */
const RECONSTRUCTED =
  'src/telemetry/task-span-events.ts taskSpanEvents, recorded by src/telemetry/task-span-recorder.ts recordTaskSpan';
const TASK_SPAN_END = 'src/telemetry/task-span-recorder.ts recordTaskSpan';
const STEP_TRACKER = 'src/telemetry/step-span-tracker.ts';
const RESULT_OBSERVER =
  'src/telemetry/system-telemetry.ts stepResultProcessed (the OrchestrationObserver hook called after the result transaction by src/orchestration/orchestrator.ts, or by src/worker/worker.ts for a result the worker orchestrated)';
const FINISHED_TASK =
  'src/telemetry/system-telemetry.ts recordFinishedTask (after the transaction that finished the task)';
const GAUGES = 'src/telemetry/engine-gauges.ts registerEngineGauges (database read at each collection)';

const TRANSITION = [ATTR.transitionFrom, ATTR.transitionTo] as const;
// Step events of the task span name the step; its uuid is on the step spans.
const STEP = [ATTR.stepName] as const;
const MANUAL = [ATTR.manualReason, ATTR.manualActor] as const;

const taskEvent = (when: string, attributes: readonly AttributeName[] = []): TelemetryMapping => ({
  kind: 'span_event',
  span: TASK_SPAN,
  when,
  attributes,
  emittedAt: RECONSTRUCTED,
});

const stepEvent = (
  when: string,
  fn: string,
  attributes: readonly AttributeName[] = [],
): TelemetryMapping => ({
  kind: 'span_event',
  span: STEP_SPAN,
  when,
  attributes,
  emittedAt: `${STEP_TRACKER} ${fn}`,
});

/** Every system event with its telemetry, in the spec's order. */
export const SYSTEM_EVENTS: readonly SystemEventDefinition[] = [
  {
    constant: 'TASK_INITIALIZE_REQUESTED',
    name: TASK_INITIALIZE_REQUESTED,
    group: 'task',
    purpose: 'Task creation initiated',
    telemetry: [
      {
        kind: 'span_start',
        span: TASK_SPAN,
        when: "task created (none → pending): the span starts at tasks.created_at with the trace and span id chosen then (tasks.traceparent), as a child of the creator's active span if any",
        emittedAt: `src/api/tasks.ts createTask (trace context), ${TASK_SPAN_END} (span start)`,
      },
      {
        kind: 'counter',
        metric: 'taskRequests',
        when: 'task created (not when an idempotency key returns an existing task)',
        emittedAt: 'src/api/tasks.ts createTask → src/telemetry/task-requests.ts countTaskRequest',
      },
    ],
  },
  {
    constant: 'TASK_START_REQUESTED',
    name: TASK_START_REQUESTED,
    group: 'task',
    purpose: 'Task processing begins',
    telemetry: [taskEvent('task pending → initializing (an orchestrator took the task request)')],
  },
  {
    constant: 'TASK_COMPLETED',
    name: TASK_COMPLETED,
    group: 'task',
    purpose: 'Task successfully finished',
    telemetry: [
      {
        kind: 'span_end_ok',
        span: TASK_SPAN,
        when: 'task → complete, at tasks.completed_at',
        emittedAt: TASK_SPAN_END,
      },
      { kind: 'counter', metric: 'taskCompletions', when: 'task → complete', emittedAt: FINISHED_TASK },
    ],
  },
  {
    constant: 'TASK_FAILED',
    name: TASK_FAILED,
    group: 'task',
    purpose: 'Task failed permanently',
    telemetry: [
      {
        kind: 'span_end_error',
        span: TASK_SPAN,
        when: 'task → error, at tasks.completed_at; status message and error.type name the failed step and its error',
        emittedAt: TASK_SPAN_END,
      },
      { kind: 'counter', metric: 'taskFailures', when: 'task → error', emittedAt: FINISHED_TASK },
    ],
  },
  {
    constant: 'TASK_RETRY_REQUESTED',
    name: TASK_RETRY_REQUESTED,
    group: 'task',
    purpose: 'Task queued for retry',
    telemetry: [
      taskEvent('a step whose retry backoff elapsed is enqueued again (step waiting_for_retry → enqueued)', [
        ...STEP,
        ATTR.stepAttempt,
      ]),
    ],
  },
  {
    constant: 'TASK_CANCELLED',
    name: TASK_CANCELLED,
    group: 'task',
    purpose: 'Task cancelled by user/system',
    telemetry: [
      taskEvent('task → cancelled', MANUAL),
      {
        kind: 'span_end',
        span: TASK_SPAN,
        when: 'task → cancelled, at tasks.completed_at (status unset: not a failure)',
        emittedAt: `${TASK_SPAN_END}, by the process that cancelled (src/cli/commands/tasks.ts \`task cancel\`)`,
      },
    ],
  },
  {
    constant: 'TASK_RESOLVED_MANUALLY',
    name: TASK_RESOLVED_MANUALLY,
    group: 'task',
    purpose: 'Manual resolution applied',
    telemetry: [
      taskEvent('task → resolved_manually', MANUAL),
      { kind: 'span_end_ok', span: TASK_SPAN, when: 'task → resolved_manually', emittedAt: TASK_SPAN_END },
    ],
    reason:
      'Mapped and emitted whenever a task enters resolved_manually, but no API moves a task there yet: `tasker step resolve` resolves a step (step.resolved_manually) and the task then completes normally.',
  },
  {
    constant: 'TASK_BEFORE_TRANSITION',
    name: TASK_BEFORE_TRANSITION,
    group: 'task',
    purpose: 'State transition starting',
    telemetry: [
      taskEvent(
        'every task transition (creation included), before the events of the state it enters',
        TRANSITION,
      ),
    ],
  },
  {
    constant: 'TASK_STEPS_DISCOVERY_COMPLETED',
    name: TASK_STEPS_DISCOVERY_COMPLETED,
    group: 'task',
    purpose: 'Ready steps identified',
    telemetry: [taskEvent('task → enqueuing_steps', [ATTR.stepNames, ATTR.stepCount])],
  },
  {
    constant: 'TASK_STEPS_ENQUEUED',
    name: TASK_STEPS_ENQUEUED,
    group: 'task',
    purpose: 'Steps sent to worker queues',
    telemetry: [
      taskEvent('task → steps_in_process (the steps were sent in the same transaction)', [
        ATTR.stepNames,
        ATTR.stepCount,
        ATTR.messagingSystem,
        ATTR.messagingDestination,
      ]),
    ],
  },
  {
    constant: 'TASK_STEP_RESULTS_RECEIVED',
    name: TASK_STEP_RESULTS_RECEIVED,
    group: 'task',
    purpose: 'Worker results received',
    telemetry: [
      taskEvent(
        'task → evaluating_results because step results were accepted (by an orchestrator, or by the worker that reported them): one event per result accepted in that transaction',
        [...STEP, ATTR.stepAttempt, ATTR.stepState],
      ),
    ],
  },
  {
    constant: 'TASK_AWAITING_DEPENDENCIES',
    name: TASK_AWAITING_DEPENDENCIES,
    group: 'task',
    purpose: 'Waiting for deps',
    telemetry: [
      taskEvent('task → waiting_for_dependencies'),
      {
        kind: 'gauge',
        metric: 'tasksWaiting',
        when: 'while tasks are in waiting_for_dependencies',
        emittedAt: GAUGES,
      },
    ],
  },
  {
    constant: 'TASK_RETRY_BACKOFF_STARTED',
    name: TASK_RETRY_BACKOFF_STARTED,
    group: 'task',
    purpose: 'In exponential backoff',
    telemetry: [taskEvent('task → waiting_for_retry')],
  },
  {
    constant: 'TASK_BLOCKED_BY_FAILURES',
    name: TASK_BLOCKED_BY_FAILURES,
    group: 'task',
    purpose: 'Blocked by step failures',
    telemetry: [
      taskEvent('task → blocked_by_failures'),
      {
        kind: 'gauge',
        metric: 'tasksBlocked',
        when: 'while tasks are in blocked_by_failures',
        emittedAt: GAUGES,
      },
    ],
  },
  {
    constant: 'STEP_INITIALIZE_REQUESTED',
    name: STEP_INITIALIZE_REQUESTED,
    group: 'step',
    purpose: 'Step created',
    telemetry: [taskEvent('step created with its task (none → pending)', STEP)],
  },
  {
    constant: 'STEP_ENQUEUE_REQUESTED',
    name: STEP_ENQUEUE_REQUESTED,
    group: 'step',
    purpose: 'Queuing to worker',
    telemetry: [
      taskEvent("step → enqueued (sent to its namespace's worker queue, named by task.steps_enqueued)", [
        ...STEP,
        ATTR.stepAttempt,
      ]),
    ],
  },
  {
    constant: 'STEP_EXECUTION_REQUESTED',
    name: STEP_EXECUTION_REQUESTED,
    group: 'step',
    purpose: 'Worker claimed step',
    telemetry: [
      {
        kind: 'span_start',
        span: STEP_SPAN,
        when: "a worker claimed the attempt (enqueued → in_progress committed); parent: the task span, from the message's traceparent header",
        emittedAt: `${STEP_TRACKER} attemptStarted (StepObserver hook called by src/worker/step-executor.ts executeClaimedStep)`,
      },
    ],
  },
  {
    constant: 'STEP_BEFORE_HANDLE',
    name: STEP_BEFORE_HANDLE,
    group: 'step',
    purpose: 'Handler invocation starting',
    telemetry: [stepEvent('just before the handler is called', 'beforeHandle')],
  },
  {
    constant: 'STEP_HANDLE',
    name: STEP_HANDLE,
    group: 'step',
    purpose: 'Handler executing',
    telemetry: [
      stepEvent('the handler returned, threw or timed out (before the outcome is reported)', 'afterHandle', [
        ATTR.stepOutcome,
        ATTR.handlerDurationMs,
      ]),
      {
        kind: 'histogram',
        metric: 'stepDuration',
        when: 'the handler returned, threw or timed out',
        emittedAt: `${STEP_TRACKER} afterHandle`,
      },
    ],
  },
  {
    constant: 'STEP_COMPLETED',
    name: STEP_COMPLETED,
    group: 'step',
    purpose: 'Step finished successfully',
    telemetry: [
      {
        kind: 'span_end_ok',
        span: STEP_SPAN,
        when: 'the attempt succeeded and its outcome transaction committed',
        emittedAt: `${STEP_TRACKER} attemptFinished (StepObserver hook called by src/worker/step-executor.ts executeClaimedStep)`,
      },
      {
        kind: 'counter',
        metric: 'stepCompletions',
        when: 'the result was accepted, by an orchestrator or the reporting worker (step → complete)',
        emittedAt: RESULT_OBSERVER,
      },
    ],
  },
  {
    constant: 'STEP_FAILED',
    name: STEP_FAILED,
    group: 'step',
    purpose: 'Step failed',
    telemetry: [
      {
        kind: 'span_end_error',
        span: STEP_SPAN,
        when: 'the attempt failed (exception recorded, error.type set) and its outcome transaction committed',
        emittedAt: `${STEP_TRACKER} attemptFinished (StepObserver hook called by src/worker/step-executor.ts executeClaimedStep)`,
      },
      {
        kind: 'counter',
        metric: 'stepFailures',
        when: 'a failed attempt was accepted, by an orchestrator or the reporting worker (step → waiting_for_retry or → error)',
        emittedAt: RESULT_OBSERVER,
      },
    ],
  },
  {
    constant: 'STEP_RETRY_REQUESTED',
    name: STEP_RETRY_REQUESTED,
    group: 'step',
    purpose: 'Step retry queued',
    telemetry: [
      taskEvent('step → waiting_for_retry (a retry of the failed attempt was scheduled)', [
        ...STEP,
        ATTR.stepAttempt,
      ]),
    ],
  },
  {
    constant: 'STEP_CANCELLED',
    name: STEP_CANCELLED,
    group: 'step',
    purpose: 'Step cancelled',
    telemetry: [taskEvent('step → cancelled (with its task)', [...STEP, ...MANUAL])],
  },
  {
    constant: 'STEP_RESOLVED_MANUALLY',
    name: STEP_RESOLVED_MANUALLY,
    group: 'step',
    purpose: 'Manual resolution',
    telemetry: [taskEvent('step → resolved_manually (`tasker step resolve`)', [...STEP, ...MANUAL])],
  },
  {
    constant: 'STEP_BEFORE_TRANSITION',
    name: STEP_BEFORE_TRANSITION,
    group: 'step',
    purpose: 'State transition starting',
    telemetry: [
      taskEvent('every step transition (creation included), before the events of the state it enters', [
        ...STEP,
        ...TRANSITION,
        ATTR.stepAttempt,
        ATTR.workerId,
        ATTR.attemptLost,
      ]),
    ],
  },
  {
    constant: 'STEP_RESULT_SUBMITTED',
    name: STEP_RESULT_SUBMITTED,
    group: 'step',
    purpose: 'Result sent to orchestration',
    telemetry: [
      stepEvent(
        'the outcome and its result message committed (not when the report was fenced off as stale)',
        'attemptFinished',
        [ATTR.messagingSystem, ATTR.messagingDestination],
      ),
    ],
  },
  {
    constant: 'WORKFLOW_TASK_STARTED',
    name: WORKFLOW_TASK_STARTED,
    group: 'workflow',
    purpose: 'Workflow processing started',
    telemetry: [taskEvent('task pending → initializing')],
  },
  {
    constant: 'WORKFLOW_TASK_COMPLETED',
    name: WORKFLOW_TASK_COMPLETED,
    group: 'workflow',
    purpose: 'Workflow finished',
    telemetry: [taskEvent('task → complete (the last event before the span ends OK)')],
  },
  {
    constant: 'WORKFLOW_TASK_FAILED',
    name: WORKFLOW_TASK_FAILED,
    group: 'workflow',
    purpose: 'Workflow failed',
    telemetry: [
      taskEvent('task → error (the last event before the span ends in error)', [
        ATTR.errorType,
        ATTR.stepName,
      ]),
    ],
  },
  {
    constant: 'WORKFLOW_STEP_COMPLETED',
    name: WORKFLOW_STEP_COMPLETED,
    group: 'workflow',
    purpose: 'Single step done',
    telemetry: [taskEvent('step → complete (its result was accepted)', [...STEP, ATTR.stepAttempt])],
  },
  {
    constant: 'WORKFLOW_STEP_FAILED',
    name: WORKFLOW_STEP_FAILED,
    group: 'workflow',
    purpose: 'Single step failed',
    telemetry: [taskEvent('step → error (failed for good)', [...STEP, ATTR.stepAttempt, ATTR.errorType])],
  },
  {
    constant: 'WORKFLOW_VIABLE_STEPS_DISCOVERED',
    name: WORKFLOW_VIABLE_STEPS_DISCOVERED,
    group: 'workflow',
    purpose: 'Ready steps found',
    telemetry: [
      taskEvent('task → enqueuing_steps', [ATTR.stepNames, ATTR.stepCount]),
      {
        kind: 'gauge',
        metric: 'stepsReady',
        when: 'while steps are enqueued and not yet claimed',
        emittedAt: GAUGES,
      },
    ],
  },
  {
    constant: 'WORKFLOW_NO_VIABLE_STEPS',
    name: WORKFLOW_NO_VIABLE_STEPS,
    group: 'workflow',
    purpose: 'No steps ready',
    telemetry: [taskEvent('task → waiting_for_dependencies or → waiting_for_retry', [ATTR.taskState])],
  },
  {
    constant: 'WORKFLOW_ORCHESTRATION_REQUESTED',
    name: WORKFLOW_ORCHESTRATION_REQUESTED,
    group: 'workflow',
    purpose: 'Orchestration cycle triggered',
    telemetry: [
      taskEvent('task → evaluating_results (a step result, a retry coming due or a manual resolution)', [
        ATTR.trigger,
      ]),
    ],
  },
];

/** What made an orchestrator evaluate a task (task → evaluating_results). */
export type OrchestrationTrigger = 'step_result' | 'retry_due' | 'manual_resolution';

/**
 * Which task span events a persisted transition produces. A rule applies when `to` matches
 * (`*`: every transition), and `from` and `trigger` when given (`from: null` is creation).
 * A transition's events are those of every matching rule, in this order.
 */
export interface TransitionEventRule {
  subject: 'task' | 'step';
  to: string;
  from?: string | null;
  trigger?: OrchestrationTrigger;
  events: readonly SystemEventName[];
}

/** The task span's events, by transition: read by src/telemetry/task-span-events.ts. */
export const TRANSITION_EVENT_RULES: readonly TransitionEventRule[] = [
  { subject: 'task', to: '*', events: [TASK_BEFORE_TRANSITION] },
  { subject: 'task', to: 'initializing', events: [TASK_START_REQUESTED, WORKFLOW_TASK_STARTED] },
  {
    subject: 'task',
    to: 'enqueuing_steps',
    events: [TASK_STEPS_DISCOVERY_COMPLETED, WORKFLOW_VIABLE_STEPS_DISCOVERED],
  },
  { subject: 'task', to: 'steps_in_process', events: [TASK_STEPS_ENQUEUED] },
  { subject: 'task', to: 'evaluating_results', trigger: 'step_result', events: [TASK_STEP_RESULTS_RECEIVED] },
  { subject: 'task', to: 'evaluating_results', events: [WORKFLOW_ORCHESTRATION_REQUESTED] },
  {
    subject: 'task',
    to: 'waiting_for_dependencies',
    events: [TASK_AWAITING_DEPENDENCIES, WORKFLOW_NO_VIABLE_STEPS],
  },
  {
    subject: 'task',
    to: 'waiting_for_retry',
    events: [TASK_RETRY_BACKOFF_STARTED, WORKFLOW_NO_VIABLE_STEPS],
  },
  { subject: 'task', to: 'blocked_by_failures', events: [TASK_BLOCKED_BY_FAILURES] },
  { subject: 'task', to: 'complete', events: [WORKFLOW_TASK_COMPLETED] },
  { subject: 'task', to: 'error', events: [WORKFLOW_TASK_FAILED] },
  { subject: 'task', to: 'cancelled', events: [TASK_CANCELLED] },
  { subject: 'task', to: 'resolved_manually', events: [TASK_RESOLVED_MANUALLY] },
  { subject: 'step', to: '*', events: [STEP_BEFORE_TRANSITION] },
  { subject: 'step', to: 'pending', from: null, events: [STEP_INITIALIZE_REQUESTED] },
  { subject: 'step', to: 'enqueued', from: 'waiting_for_retry', events: [TASK_RETRY_REQUESTED] },
  { subject: 'step', to: 'enqueued', events: [STEP_ENQUEUE_REQUESTED] },
  { subject: 'step', to: 'waiting_for_retry', events: [STEP_RETRY_REQUESTED] },
  { subject: 'step', to: 'complete', events: [WORKFLOW_STEP_COMPLETED] },
  { subject: 'step', to: 'error', events: [WORKFLOW_STEP_FAILED] },
  { subject: 'step', to: 'cancelled', events: [STEP_CANCELLED] },
  { subject: 'step', to: 'resolved_manually', events: [STEP_RESOLVED_MANUALLY] },
];
