/**
 * Names of the attributes Tasker puts on its spans and span events, in one place so every
 * emitter spells them the same way and docs/telemetry.md lists them. Tasker's own attributes
 * live under `tasker.`; messaging and error attributes follow the OpenTelemetry semantic
 * conventions (`messaging.*`, `error.type`). Metric labels are not here: they keep the short
 * names of the spec's tables (`namespace`, `step_name`, …), see metric-catalog.ts. Pure data.
 */

/** Span and span event attribute names. */
export const ATTR = {
  taskUuid: 'tasker.task.uuid',
  namespace: 'tasker.namespace',
  taskName: 'tasker.task.name',
  taskVersion: 'tasker.task.version',
  correlationId: 'tasker.task.correlation_id',
  taskState: 'tasker.task.state',
  stepName: 'tasker.step.name',
  stepUuid: 'tasker.step.uuid',
  stepAttempt: 'tasker.step.attempt',
  stepState: 'tasker.step.state',
  stepNames: 'tasker.steps.names',
  stepCount: 'tasker.steps.count',
  stepOutcome: 'tasker.step.outcome',
  handlerDurationMs: 'tasker.step.handler.duration_ms',
  attemptLost: 'tasker.step.lost',
  resultDiscarded: 'tasker.step.result_discarded',
  workerId: 'tasker.worker.id',
  transitionFrom: 'tasker.transition.from',
  transitionTo: 'tasker.transition.to',
  trigger: 'tasker.orchestration.trigger',
  manualReason: 'tasker.manual.reason',
  manualActor: 'tasker.manual.actor',
  errorType: 'error.type',
  errorMessage: 'tasker.error.message',
  messagingSystem: 'messaging.system',
  messagingDestination: 'messaging.destination.name',
  messagingMessageId: 'messaging.message.id',
} as const;

/** One attribute name. */
export type AttributeName = (typeof ATTR)[keyof typeof ATTR];

/** The value type and meaning of an attribute, for docs/telemetry.md. */
export interface AttributeDoc {
  type: 'string' | 'int' | 'double' | 'boolean' | 'string[]';
  description: string;
}

/** Every attribute with its type and meaning. */
export const ATTRIBUTE_DOCS: Readonly<Record<AttributeName, AttributeDoc>> = {
  'tasker.task.uuid': { type: 'string', description: 'The task (UUIDv7).' },
  'tasker.namespace': { type: 'string', description: "The task template's namespace." },
  'tasker.task.name': { type: 'string', description: "The task template's name." },
  'tasker.task.version': { type: 'string', description: "The task template's version." },
  'tasker.task.correlation_id': {
    type: 'string',
    description: 'The correlation id the task was created with.',
  },
  'tasker.task.state': {
    type: 'string',
    description: 'A task state (the final one on `task.orchestration`).',
  },
  'tasker.step.name': { type: 'string', description: 'The step, as named in the template.' },
  'tasker.step.uuid': { type: 'string', description: 'The step (UUIDv7).' },
  'tasker.step.attempt': { type: 'int', description: 'The attempt, counted from 1.' },
  'tasker.step.state': { type: 'string', description: 'The state a step result left the step in.' },
  'tasker.steps.names': { type: 'string[]', description: 'The steps concerned (e.g. those enqueued).' },
  'tasker.steps.count': { type: 'int', description: 'How many steps are concerned.' },
  'tasker.step.outcome': { type: 'string', description: '`success` or `failure` of the handler call.' },
  'tasker.step.handler.duration_ms': {
    type: 'double',
    description: 'How long the handler call took, in milliseconds.',
  },
  'tasker.step.lost': {
    type: 'boolean',
    description: 'True when the attempt was written off because its worker died (error.type `WorkerLost`).',
  },
  'tasker.step.result_discarded': {
    type: 'boolean',
    description:
      'True when the result came too late (task cancelled, attempt written off) and was not reported.',
  },
  'tasker.worker.id': { type: 'string', description: 'The worker that claimed the attempt.' },
  'tasker.transition.from': {
    type: 'string',
    description: 'State before a transition (`none` at creation).',
  },
  'tasker.transition.to': { type: 'string', description: 'State after a transition.' },
  'tasker.orchestration.trigger': {
    type: 'string',
    description: 'What started an evaluation: `step_result`, `retry_due` or `manual_resolution`.',
  },
  'tasker.manual.reason': { type: 'string', description: 'The reason an operator gave (cancel, resolve).' },
  'tasker.manual.actor': { type: 'string', description: 'Who acted, when recorded.' },
  'error.type': {
    type: 'string',
    description:
      'The error name of a failed attempt or task (`Error`, `PermanentError`, `StepTimeoutError`, `WorkerLost`, …).',
  },
  'tasker.error.message': { type: 'string', description: 'The error message of a failed attempt.' },
  'messaging.system': { type: 'string', description: 'Always `pgmq`.' },
  'messaging.destination.name': {
    type: 'string',
    description: 'The PGMQ queue a message went to or came from.',
  },
  'messaging.message.id': {
    type: 'string',
    description: "The PGMQ message id (`msg_id`) of the step's message.",
  },
};

/** `messaging.system` of every queue Tasker uses. */
export const MESSAGING_SYSTEM = 'pgmq';
