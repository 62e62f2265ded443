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
 * The attribute sets of one event of a task transition: one set, except for
 * task.step_results_received, emitted once per result accepted in the transaction (an
 * orchestrator may settle several results of a task before evaluating it once).
 */
function taskEventAttributes(
  name: SystemEventName,
  record: TransitionRecord,
  context: Context,
  trigger: OrchestrationTrigger | undefined,
): Attributes[] {
  if (name === TASK_STEP_RESULTS_RECEIVED) {
    return (context.stepsAt.get(record.atUs) ?? []).filter(isResult).map((step) => {
      const attributes = stepAttributes(step);
      attributes[ATTR.stepState] = step.to;
      return attributes;
    });
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
      for (const step of context.stepsAt.get(record.atUs) ?? [])
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
  return [attributes];
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

/** The rules by subject and state entered (`*` rules under their own key), in table order. */
const RULES_BY_TARGET = new Map<string, TransitionEventRule[]>();
for (const rule of TRANSITION_EVENT_RULES) {
  const key = `${rule.subject}:${rule.to}`;
  const list = RULES_BY_TARGET.get(key);
  if (list) list.push(rule);
  else RULES_BY_TARGET.set(key, [rule]);
}

/** The events a transition produces, per TRANSITION_EVENT_RULES (in their order). */
function eventsOf(entry: Entry, trigger: OrchestrationTrigger | undefined): SystemEventName[] {
  const { from, to } = entry.record;
  const events: SystemEventName[] = [];
  const candidates = [
    ...(RULES_BY_TARGET.get(`${entry.subject}:*`) ?? []),
    ...(RULES_BY_TARGET.get(`${entry.subject}:${to}`) ?? []),
  ];
  for (const rule of TRANSITION_EVENT_RULES) {
    if (!candidates.includes(rule)) continue;
    if (rule.from !== undefined && rule.from !== from) continue;
    if (rule.trigger !== undefined && rule.trigger !== trigger) continue;
    events.push(...rule.events);
  }
  return events;
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
  const context: Context = { history, stepsAt, queue: workerQueue(history.task.namespace) };
  const events: SpanEventRecord[] = [];
  for (const entry of orderedTransitions(history)) {
    const timeUs = entry.record.atUs;
    if (entry.subject === 'step') {
      for (const name of eventsOf(entry, undefined)) {
        events.push({ name, timeUs, attributes: stepEventAttributes(name, entry.record, context) });
      }
      continue;
    }
    const trigger = entry.record.to === 'evaluating_results' ? triggerOf(context, entry.record) : undefined;
    for (const name of eventsOf(entry, trigger)) {
      for (const attributes of taskEventAttributes(name, entry.record, context, trigger)) {
        events.push({ name, timeUs, attributes });
      }
    }
  }
  return events;
}
