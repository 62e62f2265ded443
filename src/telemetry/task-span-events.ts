/**
 * Rebuilds a task's `task.orchestration` span from its persisted history: the task row and
 * every task and step transition, with their timestamps and metadata. The span is recorded
 * once, when the task finishes, by whichever process finished it, so it does not matter how
 * many orchestrators worked on the task. Which events a transition produces is data
 * (TRANSITION_EVENT_RULES); this module only orders the transitions and fills in attributes.
 * Pure: no I/O.
 *
 * Order. Timestamps are tasker.transition_time() of the writing transaction (taken when it first
 * writes history, after it waited for the task's lock), so every transition a transaction
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
  type TransitionEventRule,
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
  | { subject: 'task'; record: TransitionRecord; rank: number; order: number }
  | { subject: 'step'; record: StepTransitionRecord; rank: number; order: number };

/** Position of a transition inside its transaction (see the module comment). */
function rankOf(subject: Entry['subject'], { from, to }: TransitionRecord): number {
  if (subject === 'task') {
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
  const position = new Map<string, number>();
  history.steps.forEach((step, index) => position.set(step.stepUuid, index));
  const entries: Entry[] = [];
  for (const record of history.taskTransitions) {
    entries.push({ subject: 'task', record, rank: rankOf('task', record), order: record.seq });
  }
  for (const record of history.stepTransitions) {
    const rank = rankOf('step', record);
    const order = rank === 1 ? (position.get(record.stepUuid) ?? 0) : record.seq;
    entries.push({ subject: 'step', record, rank, order });
  }
  return entries.sort((a, b) => a.record.atUs - b.record.atUs || a.rank - b.rank || a.order - b.order);
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
  /** The task's worker queue. */
  queue: string;
}

// Attribute objects are built by assignment: object spread costs several times more, and a
// task span has an event per transition.

function stepAttributes(record: StepTransitionRecord, withAttempt = true): Attributes {
  // The name identifies a step within its task; the uuid is on the step's own spans.
  const attributes: Attributes = {};
  attributes[ATTR.stepName] = record.stepName;
  const attempt = record.metadata.attempt;
  if (withAttempt && typeof attempt === 'number') attributes[ATTR.stepAttempt] = attempt;
  return attributes;
}

function addManual(attributes: Attributes, metadata: Record<string, unknown>): Attributes {
  if (typeof metadata.reason === 'string') attributes[ATTR.manualReason] = metadata.reason;
  if (typeof metadata.actor === 'string') attributes[ATTR.manualActor] = metadata.actor;
  return attributes;
}

function addQueue(attributes: Attributes, context: Context): Attributes {
  attributes[ATTR.messagingSystem] = MESSAGING_SYSTEM;
  attributes[ATTR.messagingDestination] = context.queue;
  return attributes;
}

const isResult = (step: StepTransitionRecord): boolean => step.from !== null && RESULT_STATES.has(step.from);

/** Why the task went to evaluating_results, from the step transitions of the same transaction. */
function triggerOf(context: Context, record: TransitionRecord): OrchestrationTrigger {
  const steps = context.stepsAt.get(record.atUs) ?? [];
  if (steps.some(isResult)) return 'step_result';
  if (steps.some((step) => step.to === 'resolved_manually')) return 'manual_resolution';
  return 'retry_due';
}

/**
 * Adds the span events of one event name of a task transition: one, except for
 * task.step_results_received, emitted once per result accepted in the transaction (an
 * orchestrator may settle several results of a task before evaluating it once).
 */
function addTaskEvents(
  events: SpanEventRecord[],
  name: SystemEventName,
  record: TransitionRecord,
  context: Context,
  trigger: OrchestrationTrigger | undefined,
): void {
  const timeUs = record.atUs;
  if (name === TASK_STEP_RESULTS_RECEIVED) {
    for (const step of context.stepsAt.get(timeUs) ?? []) {
      if (!isResult(step)) continue;
      const attributes = stepAttributes(step);
      attributes[ATTR.stepState] = step.to;
      events.push({ name, timeUs, attributes });
    }
    return;
  }
  const attributes: Attributes = {};
  switch (name) {
    case TASK_BEFORE_TRANSITION:
      attributes[ATTR.transitionFrom] = record.from ?? 'none';
      attributes[ATTR.transitionTo] = record.to;
      break;
    case TASK_STEPS_DISCOVERY_COMPLETED:
    case WORKFLOW_VIABLE_STEPS_DISCOVERED:
    case TASK_STEPS_ENQUEUED: {
      const names: string[] = [];
      for (const step of context.stepsAt.get(timeUs) ?? [])
        if (step.to === 'enqueued') names.push(step.stepName);
      attributes[ATTR.stepNames] = names;
      attributes[ATTR.stepCount] = names.length;
      if (name === TASK_STEPS_ENQUEUED) addQueue(attributes, context);
      break;
    }
    case WORKFLOW_ORCHESTRATION_REQUESTED:
      attributes[ATTR.trigger] = trigger ?? triggerOf(context, record);
      break;
    case WORKFLOW_NO_VIABLE_STEPS:
      attributes[ATTR.taskState] = record.to;
      break;
    case WORKFLOW_TASK_FAILED: {
      const step = failedStep(context.history);
      attributes[ATTR.errorType] = step?.errorName ?? 'Unknown';
      if (step) attributes[ATTR.stepName] = step.name;
      break;
    }
    case TASK_CANCELLED:
    case TASK_RESOLVED_MANUALLY:
      addManual(attributes, record.metadata);
      break;
    case TASK_START_REQUESTED:
    case WORKFLOW_TASK_STARTED:
    case TASK_AWAITING_DEPENDENCIES:
    case TASK_RETRY_BACKOFF_STARTED:
    case TASK_BLOCKED_BY_FAILURES:
    case WORKFLOW_TASK_COMPLETED:
      break;
    default:
      throw new Error(`no attributes defined for task transition event ${name}`);
  }
  events.push({ name, timeUs, attributes });
}

function stepEventAttributes(
  name: SystemEventName,
  record: StepTransitionRecord,
  context: Context,
): Attributes {
  switch (name) {
    case STEP_BEFORE_TRANSITION: {
      const attributes = stepAttributes(record);
      attributes[ATTR.transitionFrom] = record.from ?? 'none';
      attributes[ATTR.transitionTo] = record.to;
      if (typeof record.metadata.worker === 'string') attributes[ATTR.workerId] = record.metadata.worker;
      if (record.metadata.lost === true) attributes[ATTR.attemptLost] = true;
      return attributes;
    }
    case STEP_INITIALIZE_REQUESTED:
      return stepAttributes(record, false);
    case STEP_ENQUEUE_REQUESTED:
      // The queue is on task.steps_enqueued, which every enqueue of a step goes with.
      return stepAttributes(record);
    case TASK_RETRY_REQUESTED:
    case STEP_RETRY_REQUESTED:
    case WORKFLOW_STEP_COMPLETED:
      return stepAttributes(record);
    case WORKFLOW_STEP_FAILED: {
      const attributes = stepAttributes(record);
      const step = context.history.steps.find((candidate) => candidate.stepUuid === record.stepUuid);
      attributes[ATTR.errorType] = step?.errorName ?? 'Unknown';
      return attributes;
    }
    case STEP_CANCELLED:
    case STEP_RESOLVED_MANUALLY:
      return addManual(stepAttributes(record, false), record.metadata);
    default:
      throw new Error(`no attributes defined for step transition event ${name}`);
  }
}

/** The rules that may apply to a transition, by subject and state entered, in table order. */
const RULES_BY_TARGET = {
  task: new Map<string, readonly TransitionEventRule[]>(),
  step: new Map<string, readonly TransitionEventRule[]>(),
};

function rulesInto(subject: Entry['subject'], to: string): readonly TransitionEventRule[] {
  const cache = RULES_BY_TARGET[subject];
  let rules = cache.get(to);
  if (!rules) {
    rules = TRANSITION_EVENT_RULES.filter(
      (rule) => rule.subject === subject && (rule.to === '*' || rule.to === to),
    );
    cache.set(to, rules);
  }
  return rules;
}

/** Whether a rule of rulesInto applies to the transition: its `from` and `trigger`, when given. */
const applies = (rule: TransitionEventRule, entry: Entry, trigger: OrchestrationTrigger | undefined) =>
  (rule.from === undefined || rule.from === entry.record.from) &&
  (rule.trigger === undefined || rule.trigger === trigger);

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
  const context: Context = { history, stepsAt, queue: workerQueue(history.task.namespace) };
  const events: SpanEventRecord[] = [];
  for (const entry of orderedTransitions(history)) {
    const { record } = entry;
    const trigger =
      entry.subject === 'task' && record.to === 'evaluating_results' ? triggerOf(context, record) : undefined;
    for (const rule of rulesInto(entry.subject, record.to)) {
      if (!applies(rule, entry, trigger)) continue;
      for (const name of rule.events) {
        if (entry.subject === 'task') {
          addTaskEvents(events, name, entry.record, context, trigger);
        } else {
          const attributes = stepEventAttributes(name, entry.record, context);
          events.push({ name, timeUs: record.atUs, attributes });
        }
      }
    }
  }
  return events;
}
