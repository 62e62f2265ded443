import { TaskerError } from '../../errors.js';
import { uuidv7 } from '../../ids/uuid-v7.js';
import { assertValidEventName } from '../../templates/event-declarations.js';

/*
 * The domain event envelope (DESIGN.md "Domain event envelope", spec 2.6): the one wire
 * format of tier-2 events, snake_case, language-neutral. Its JSON Schema is
 * docs/schemas/domain-event.schema.json. Readers must ignore fields they do not know: fields
 * may be added (and documented there), never renamed.
 */

/** Where and when an event was fired. */
export interface DomainEventMetadata {
  readonly task_uuid: string;
  readonly step_uuid: string;
  readonly step_name: string;
  readonly namespace: string;
  readonly correlation_id: string;
  /** RFC 3339 timestamp, UTC (`2025-11-20T12:00:00.000Z`). */
  readonly fired_at: string;
  /** The worker that ran the step that published the event. */
  readonly fired_by: string;
}

/**
 * One published domain event. In-process subscribers of the same event share one object:
 * treat it as read-only.
 */
export interface DomainEvent<P = unknown> {
  /** UUIDv7: unique, and sortable by creation time. */
  readonly id: string;
  /** Dotted name as declared in the step's `publishes_events` (`payment.charged`). */
  readonly name: string;
  readonly payload: P;
  readonly metadata: DomainEventMetadata;
}

/** The step attempt an event comes from (camelCase, as the handler context has it). */
export interface DomainEventSource {
  taskUuid: string;
  stepUuid: string;
  stepName: string;
  namespace: string;
  correlationId: string;
  /** The worker's id. */
  firedBy: string;
}

/** Optional overrides, for replays and tests; both default to fresh values. */
export interface DomainEventOverrides {
  id?: string;
  firedAt?: Date;
}

/**
 * Builds an envelope for `name` fired by the step attempt `source`: a new UUIDv7 id, the
 * current time as `fired_at`. Throws TaskerError `EVENT_INVALID` for a name that breaks the
 * templates' event name rule (`domain.action`, not reserved). The payload is taken as-is (checking it against the declared schema is the publisher's
 * job).
 */
export function createDomainEvent<P>(
  name: string,
  payload: P,
  source: DomainEventSource,
  overrides: DomainEventOverrides = {},
): DomainEvent<P> {
  assertValidEventName(name, `event published by step "${source.stepName}"`);
  const firedAt = overrides.firedAt ?? new Date();
  if (Number.isNaN(firedAt.getTime())) {
    throw new TaskerError('EVENT_INVALID', `event "${name}": fired_at is not a valid date`);
  }
  return {
    id: overrides.id ?? uuidv7(),
    name,
    payload,
    metadata: {
      task_uuid: source.taskUuid,
      step_uuid: source.stepUuid,
      step_name: source.stepName,
      namespace: source.namespace,
      correlation_id: source.correlationId,
      fired_at: firedAt.toISOString(),
      fired_by: source.firedBy,
    },
  };
}
