/**
 * Rebuilds a task's `task.orchestration` span from its persisted history: the task row and
 * every task and step transition, with their timestamps and metadata. The span is recorded
 * once, when the task finishes, by whichever process finished it, so it does not matter how
 * many orchestrators worked on the task. Which events a transition produces is data
 * (TRANSITION_EVENT_RULES); this module only orders the transitions and fills in attributes.
 * Pure: no I/O.
 *
 * Order. Timestamps are `now()` of the writing transaction, so every transition a transaction
 * writes has the same time (in microseconds), and the two tables number their rows
 * separately. Ties are broken by the engine's logical order within a transaction, whatever
 * order the statements ran in: task creation, step creation (in template order), steps
 * settled (results accepted, steps cancelled or resolved), the task's moves up to
 * enqueuing_steps, steps enqueued, then the task's other moves. This holds as long as a
 * transaction evaluates a task at most once, which the orchestrator guarantees (one plan per
 * locked task per transaction).
 */
import type { Attributes } from '@opentelemetry/api';
import { workerQueue } from '../engine/queues.js';
import { ATTR, MESSAGING_SYSTEM } from './attributes.js';
import {
  STEP_BEFORE_TRANSITION,
  STEP_CANCELLED,
  STEP_ENQUEUE_REQUESTED,
  STEP_INITIALIZE_REQUESTED,
  STEP_RESOLVED_MANUALLY,
  STEP_RETRY_REQUESTED,
  TASK_AWAITING_DEPENDENCIES,
  TASK_BEFORE_TRANSITION,
  TASK_BLOCKED_BY_FAILURES,
  TASK_CANCELLED,
  TASK_RESOLVED_MANUALLY,
  TASK_RETRY_BACKOFF_STARTED,
  TASK_RETRY_REQUESTED,
  TASK_START_REQUESTED,
  TASK_STEP_RESULTS_RECEIVED,
  TASK_STEPS_DISCOVERY_COMPLETED,
  TASK_STEPS_ENQUEUED,
  TRANSITION_EVENT_RULES,
  WORKFLOW_NO_VIABLE_STEPS,
  WORKFLOW_ORCHESTRATION_REQUESTED,
  WORKFLOW_STEP_COMPLETED,
  WORKFLOW_STEP_FAILED,
  WORKFLOW_TASK_COMPLETED,
  WORKFLOW_TASK_FAILED,
  WORKFLOW_TASK_STARTED,
  WORKFLOW_VIABLE_STEPS_DISCOVERED,
  type OrchestrationTrigger,
  type SystemEventName,
} from './system-events.js';

/** The task row, times in microseconds since the epoch. */
export interface TaskRecord {
  taskUuid: string;
  namespace: string;
  name: string;
  version: string;
  correlationId: string;
  status: string;
  createdUs: number;
  completedUs: number | null;
  traceparent: string | null;
  parentTraceparent: string | null;
}

/** One persisted transition. `seq` orders transitions of one table (sort_key, or id). */
export interface TransitionRecord {
  from: string | null;
  to: string;
  metadata: Record<string, unknown>;
  atUs: number;
  seq: number;
}

/** One persisted step transition, with its step. */
export interface StepTransitionRecord extends TransitionRecord {
  stepUuid: string;
  stepName: string;
}

/** One step as it is now, in template order. */
export interface StepRecord {
  stepUuid: string;
  name: string;
  state: string;
  /** Name and message of the step's last error, if any. */
  errorName: string | null;
  errorMessage: string | null;
}

/** Everything the task span is rebuilt from. */
export interface TaskHistory {
  task: TaskRecord;
  taskTransitions: readonly TransitionRecord[];
  stepTransitions: readonly StepTransitionRecord[];
  steps: readonly StepRecord[];
}

/** One span event: name, time in microseconds since the epoch, attributes. */
export interface SpanEventRecord {
  name: SystemEventName;
  timeUs: number;
  attributes: Attributes;
}

/** The span as a whole: times, attributes, status. */
export interface TaskSpanOutline {
  startUs: number;
  endUs: number;
  attributes: Attributes;
  status: 'ok' | 'error' | 'unset';
  statusMessage?: string;
  /** For a failed task: the error name of its failed step (`Unknown` when none is in error). */
  errorCode?: string;
}

/** Final task states, in which the span is recorded. */
export const FINAL_TASK_STATES: readonly string[] = ['complete', 'error', 'cancelled', 'resolved_manually'];

const RESULT_STATES = new Set(['enqueued_for_orchestration', 'enqueued_as_error_for_orchestration']);
const EARLY_TASK_STATES = new Set(['initializing', 'evaluating_results', 'enqueuing_steps']);

type Entry =
  | { subject: 'task'; record: TransitionRecord; rank: number }
  | { subject: 'step'; record: StepTransitionRecord; rank: number };

/** Position of a transition inside its transaction (see the module comment). */
function rankOf(entry: Omit<Entry, 'rank'>): number {
  const { from, to } = entry.record;
  if (entry.subject === 'task') {
    if (from === null) return 0;
    return EARLY_TASK_STATES.has(to) ? 3 : 5;
  }
  if (from === null) return 1;
  return to === 'enqueued' ? 4 : 2;
}

/**
 * Every transition of the task and its steps, in the order they happened. Steps are created by
 * one statement, in no particular order: their creation is listed in template order.
 */
function orderedTransitions(history: TaskHistory): Entry[] {
  const position = new Map(history.steps.map((step, index) => [step.stepUuid, index]));
  const entries: Entry[] = [
    ...history.taskTransitions.map((record) => ({ subject: 'task' as const, record, rank: 0 })),
    ...history.stepTransitions.map((record) => ({ subject: 'step' as const, record, rank: 0 })),
  ];
  for (const entry of entries) entry.rank = rankOf(entry);
  const order = (entry: Entry): number =>
    entry.subject === 'step' && entry.rank === 1
      ? (position.get(entry.record.stepUuid) ?? 0)
      : entry.record.seq;
  return entries.sort((a, b) => a.record.atUs - b.record.atUs || a.rank - b.rank || order(a) - order(b));
}

/** The step that failed the task: the first step in error, in template order. */
function failedStep(history: TaskHistory): StepRecord | undefined {
  return history.steps.find((step) => step.state === 'error');
}

/** Outline of the task span: start, end, attributes and status. */
export function taskSpanOutline(history: TaskHistory): TaskSpanOutline {
  const { task } = history;
  const attributes: Attributes = {
    [ATTR.taskUuid]: task.taskUuid,
    [ATTR.namespace]: task.namespace,
    [ATTR.taskName]: task.name,
    [ATTR.taskVersion]: task.version,
    [ATTR.correlationId]: task.correlationId,
    [ATTR.taskState]: task.status,
  };
  const outline: TaskSpanOutline = {
    startUs: task.createdUs,
    endUs: task.completedUs ?? task.createdUs,
    attributes,
    status: task.status === 'complete' || task.status === 'resolved_manually' ? 'ok' : 'unset',
  };
  if (task.status === 'error') {
    const step = failedStep(history);
    const errorCode = step?.errorName ?? 'Unknown';
    attributes[ATTR.errorType] = errorCode;
    outline.status = 'error';
    outline.errorCode = errorCode;
    outline.statusMessage = step
      ? `step ${step.name} failed: ${errorCode}${step.errorMessage ? `: ${step.errorMessage}` : ''}`
      : 'no step could run';
  }
  return outline;
}

/** Facts of one transaction the attributes are drawn from. */
interface Context {
  history: TaskHistory;
  /** Step transitions by transaction time. */
  stepsAt: Map<number, StepTransitionRecord[]>;
}

function stepAttributes(record: StepTransitionRecord): Attributes {
  const attributes: Attributes = { [ATTR.stepName]: record.stepName, [ATTR.stepUuid]: record.stepUuid };
  if (typeof record.metadata.attempt === 'number') attributes[ATTR.stepAttempt] = record.metadata.attempt;
  return attributes;
}

function manualAttributes(metadata: Record<string, unknown>): Attributes {
  const attributes: Attributes = {};
  if (typeof metadata.reason === 'string') attributes[ATTR.manualReason] = metadata.reason;
  if (typeof metadata.actor === 'string') attributes[ATTR.manualActor] = metadata.actor;
  return attributes;
}

function enqueuedIn(context: Context, atUs: number): StepTransitionRecord[] {
  return (context.stepsAt.get(atUs) ?? []).filter((step) => step.to === 'enqueued');
}

/** Why the task went to evaluating_results, from the step transitions of the same transaction. */
function triggerOf(context: Context, record: TransitionRecord): OrchestrationTrigger {
  const steps = context.stepsAt.get(record.atUs) ?? [];
  if (steps.some((step) => step.from !== null && RESULT_STATES.has(step.from))) return 'step_result';
  if (steps.some((step) => step.to === 'resolved_manually')) return 'manual_resolution';
  return 'retry_due';
}

/**
 * The attribute sets of one event of a task transition: one set, except for
 * task.step_results_received, emitted once per result accepted in the transaction (an
 * orchestrator may settle several results of a task before evaluating it once).
 */
function taskEventAttributes(
  name: SystemEventName,
  record: TransitionRecord,
  context: Context,
): Attributes[] {
  if (name === TASK_STEP_RESULTS_RECEIVED) {
    return (context.stepsAt.get(record.atUs) ?? [])
      .filter((step) => step.from !== null && RESULT_STATES.has(step.from))
      .map((step) => ({ ...stepAttributes(step), [ATTR.stepState]: step.to }));
  }
  return [singleTaskEventAttributes(name, record, context)];
}

function singleTaskEventAttributes(
  name: SystemEventName,
  record: TransitionRecord,
  context: Context,
): Attributes {
  switch (name) {
    case TASK_BEFORE_TRANSITION:
      return { [ATTR.transitionFrom]: record.from ?? 'none', [ATTR.transitionTo]: record.to };
    case TASK_STEPS_DISCOVERY_COMPLETED:
    case WORKFLOW_VIABLE_STEPS_DISCOVERED:
    case TASK_STEPS_ENQUEUED: {
      const names = enqueuedIn(context, record.atUs).map((step) => step.stepName);
      const attributes: Attributes = { [ATTR.stepNames]: names, [ATTR.stepCount]: names.length };
      if (name !== TASK_STEPS_ENQUEUED) return attributes;
      return {
        ...attributes,
        [ATTR.messagingSystem]: MESSAGING_SYSTEM,
        [ATTR.messagingDestination]: workerQueue(context.history.task.namespace),
      };
    }
    case WORKFLOW_ORCHESTRATION_REQUESTED:
      return { [ATTR.trigger]: triggerOf(context, record) };
    case WORKFLOW_NO_VIABLE_STEPS:
      return { [ATTR.taskState]: record.to };
    case WORKFLOW_TASK_FAILED: {
      const step = failedStep(context.history);
      return step
        ? { [ATTR.errorType]: step.errorName ?? 'Unknown', [ATTR.stepName]: step.name }
        : { [ATTR.errorType]: 'Unknown' };
    }
    case TASK_CANCELLED:
    case TASK_RESOLVED_MANUALLY:
      return manualAttributes(record.metadata);
    case TASK_START_REQUESTED:
    case WORKFLOW_TASK_STARTED:
    case TASK_AWAITING_DEPENDENCIES:
    case TASK_RETRY_BACKOFF_STARTED:
    case TASK_BLOCKED_BY_FAILURES:
    case WORKFLOW_TASK_COMPLETED:
      return {};
    default:
      throw new Error(`no attributes defined for task transition event ${name}`);
  }
}

function stepEventAttributes(
  name: SystemEventName,
  record: StepTransitionRecord,
  context: Context,
): Attributes {
  const base = stepAttributes(record);
  switch (name) {
    case STEP_BEFORE_TRANSITION: {
      const attributes: Attributes = {
        ...base,
        [ATTR.transitionFrom]: record.from ?? 'none',
        [ATTR.transitionTo]: record.to,
      };
      if (typeof record.metadata.worker === 'string') attributes[ATTR.workerId] = record.metadata.worker;
      if (record.metadata.lost === true) attributes[ATTR.attemptLost] = true;
      return attributes;
    }
    case STEP_INITIALIZE_REQUESTED:
      return { [ATTR.stepName]: record.stepName, [ATTR.stepUuid]: record.stepUuid };
    case STEP_ENQUEUE_REQUESTED:
      return {
        ...base,
        [ATTR.messagingSystem]: MESSAGING_SYSTEM,
        [ATTR.messagingDestination]: workerQueue(context.history.task.namespace),
      };
    case TASK_RETRY_REQUESTED:
    case STEP_RETRY_REQUESTED:
    case WORKFLOW_STEP_COMPLETED:
      return base;
    case WORKFLOW_STEP_FAILED: {
      const step = context.history.steps.find((candidate) => candidate.stepUuid === record.stepUuid);
      return { ...base, [ATTR.errorType]: step?.errorName ?? 'Unknown' };
    }
    case STEP_CANCELLED:
    case STEP_RESOLVED_MANUALLY:
      return {
        [ATTR.stepName]: record.stepName,
        [ATTR.stepUuid]: record.stepUuid,
        ...manualAttributes(record.metadata),
      };
    default:
      throw new Error(`no attributes defined for step transition event ${name}`);
  }
}

/** The events a transition produces, per TRANSITION_EVENT_RULES. */
function eventsOf(entry: Entry, context: Context): SystemEventName[] {
  const { from, to } = entry.record;
  const trigger =
    entry.subject === 'task' && to === 'evaluating_results' ? triggerOf(context, entry.record) : undefined;
  return TRANSITION_EVENT_RULES.filter(
    (rule) =>
      rule.subject === entry.subject &&
      (rule.to === '*' || rule.to === to) &&
      (rule.from === undefined || rule.from === from) &&
      (rule.trigger === undefined || rule.trigger === trigger),
  ).flatMap((rule) => rule.events);
}

/**
 * The span events of a task's `task.orchestration` span, in the order they happened: for each
 * task and step transition, the events TRANSITION_EVENT_RULES gives it.
 */
export function taskSpanEvents(history: TaskHistory): SpanEventRecord[] {
  const stepsAt = new Map<number, StepTransitionRecord[]>();
  for (const record of history.stepTransitions) {
    const list = stepsAt.get(record.atUs);
    if (list) list.push(record);
    else stepsAt.set(record.atUs, [record]);
  }
  const context: Context = { history, stepsAt };
  return orderedTransitions(history).flatMap((entry) =>
    eventsOf(entry, context).flatMap((name) => {
      const sets =
        entry.subject === 'task'
          ? taskEventAttributes(name, entry.record, context)
          : [stepEventAttributes(name, entry.record, context)];
      return sets.map((attributes) => ({ name, timeUs: entry.record.atUs, attributes }));
    }),
  );
}
