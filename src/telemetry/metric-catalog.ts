/**
 * Every metric of the system events (spec 1.2 "Counters" and "Gauges", plus the step duration
 * histogram and the queue gauges), as data: the instruments are created from it and
 * docs/telemetry.md is rendered from it. Labels keep the spec's short names. Pure data.
 */

/** The OpenTelemetry instrument behind a metric. */
export type InstrumentKind = 'counter' | 'histogram' | 'observable_gauge';

/** One metric. */
export interface MetricDefinition {
  name: string;
  instrument: InstrumentKind;
  unit: string;
  labels: readonly string[];
  description: string;
  /** Which processes report it. */
  reportedBy: string;
  /** Where in the code it is recorded (file and function). */
  recordedAt: string;
}

/** The metrics, by key. */
export const METRICS = {
  taskRequests: {
    name: 'tasker.tasks.requests.total',
    instrument: 'counter',
    unit: '{task}',
    labels: ['namespace'],
    description: 'Tasks created (a create answered from its idempotency key is not counted).',
    reportedBy: 'the process that creates the task (CLI, application, `tasker run`)',
    recordedAt: 'src/api/tasks.ts createTask → src/telemetry/task-requests.ts countTaskRequest',
  },
  taskCompletions: {
    name: 'tasker.tasks.completions.total',
    instrument: 'counter',
    unit: '{task}',
    labels: ['namespace'],
    description: 'Tasks that reached `complete`.',
    reportedBy: 'the orchestrator or worker (or `tasker step resolve`) whose transaction finished the task',
    recordedAt: 'src/telemetry/system-telemetry.ts recordFinishedTask',
  },
  taskFailures: {
    name: 'tasker.tasks.failures.total',
    instrument: 'counter',
    unit: '{task}',
    labels: ['namespace', 'error_code'],
    description:
      'Tasks that reached `error`. `error_code` is the error name of the step that failed for good (`PermanentError`, `StepTimeoutError`, `WorkerLost`, `Error`, …; `Unknown` when no step is in error).',
    reportedBy: 'the orchestrator or worker whose transaction failed the task',
    recordedAt: 'src/telemetry/system-telemetry.ts recordFinishedTask',
  },
  stepCompletions: {
    name: 'tasker.steps.completions.total',
    instrument: 'counter',
    unit: '{step}',
    labels: ['namespace', 'step_name'],
    description:
      'Step results accepted as complete (by an orchestrator, or by the worker that reported them).',
    reportedBy: 'the orchestrator, or reporting worker, that accepted the result',
    recordedAt: 'src/telemetry/system-telemetry.ts stepResultProcessed',
  },
  stepFailures: {
    name: 'tasker.steps.failures.total',
    instrument: 'counter',
    unit: '{attempt}',
    labels: ['namespace', 'step_name', 'error_type'],
    description:
      'Failed attempts accepted (by an orchestrator or the reporting worker), whether retried or final. `error_type` is the error name of the attempt.',
    reportedBy: 'the orchestrator, or reporting worker, that accepted the result',
    recordedAt: 'src/telemetry/system-telemetry.ts stepResultProcessed',
  },
  tasksWaiting: {
    name: 'tasker.tasks.waiting',
    instrument: 'observable_gauge',
    unit: '{task}',
    labels: ['namespace'],
    description: 'Tasks in `waiting_for_dependencies`, read from the database at collection.',
    reportedBy:
      'orchestrators and `tasker run` (every one reports the same global value: aggregate with max)',
    recordedAt: 'src/telemetry/engine-gauges.ts registerEngineGauges',
  },
  tasksBlocked: {
    name: 'tasker.tasks.blocked',
    instrument: 'observable_gauge',
    unit: '{task}',
    labels: ['namespace'],
    description: 'Tasks in `blocked_by_failures`, read from the database at collection.',
    reportedBy: 'orchestrators and `tasker run` (global value: aggregate with max)',
    recordedAt: 'src/telemetry/engine-gauges.ts registerEngineGauges',
  },
  stepsReady: {
    name: 'tasker.steps.ready',
    instrument: 'observable_gauge',
    unit: '{step}',
    labels: ['namespace'],
    description:
      'Steps enqueued for workers and not claimed yet (state `enqueued`), read from the database at collection.',
    reportedBy: 'orchestrators and `tasker run` (global value: aggregate with max)',
    recordedAt: 'src/telemetry/engine-gauges.ts registerEngineGauges',
  },
  stepDuration: {
    name: 'tasker.steps.execution.duration',
    instrument: 'histogram',
    unit: 's',
    labels: ['namespace', 'step_name', 'outcome'],
    description:
      'Duration of handler calls (`step.before_handle` to `step.handle`); `outcome` is `success` or `failure`.',
    reportedBy: 'workers',
    recordedAt: 'src/telemetry/step-span-tracker.ts afterHandle',
  },
  queueDepth: {
    name: 'tasker.queue.depth',
    instrument: 'observable_gauge',
    unit: '{message}',
    labels: ['queue'],
    description: 'Messages in each PGMQ queue, visible or not (`pgmq.metrics_all()` queue_length).',
    reportedBy: 'orchestrators and `tasker run` (global value: aggregate with max)',
    recordedAt: 'src/telemetry/engine-gauges.ts registerEngineGauges',
  },
  queueOldestAge: {
    name: 'tasker.queue.oldest_message_age',
    instrument: 'observable_gauge',
    unit: 's',
    labels: ['queue'],
    description: 'Age of the oldest message in each PGMQ queue, 0 when empty (`pgmq.metrics_all()`).',
    reportedBy: 'orchestrators and `tasker run` (global value: aggregate with max)',
    recordedAt: 'src/telemetry/engine-gauges.ts registerEngineGauges',
  },
} as const satisfies Record<string, MetricDefinition>;

/** Key of a metric in {@link METRICS}. */
export type MetricKey = keyof typeof METRICS;

/** The meter name every Tasker instrument is created under. */
export const TASKER_METER = 'tasker';

/** The tracer name every Tasker span is created under. */
export const TASKER_TRACER = 'tasker';
