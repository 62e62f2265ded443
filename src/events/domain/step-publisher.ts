import type { ValidateFunction } from 'ajv';
import type { Database, Queryable } from '../../db/database.js';
import { TaskerError } from '../../errors.js';
import { compileJsonSchema, formatSchemaErrors } from '../../templates/json-schema.js';
import type { EventDeclaration } from '../../templates/types.js';
import type { ClaimedStep } from '../../worker/step-claim.js';
import type { AttemptEvents, StepEventPublisher } from '../../worker/step-events.js';
import { createDomainEvent, type DomainEvent } from './envelope.js';
import type { DomainEventMetrics } from './metrics.js';
import { persistEvents } from './outbox.js';

/** Receives every committed event of this process for in-process (fire_and_forget) delivery. */
export interface InProcessDelivery {
  dispatch(events: readonly DomainEvent[]): Promise<void> | undefined;
}

/** Options of {@link createStepEventPublisher}. */
export interface StepEventPublisherOptions {
  db: Database;
  workerId: string;
  inProcess: InProcessDelivery;
  /** `events.enabled`: when false, events are still validated but go nowhere. */
  enabled: boolean;
  metrics: DomainEventMetrics;
}

interface CompiledDeclaration extends EventDeclaration {
  validate: ValidateFunction;
}

interface StoredStep {
  name: string;
  publishesEvents?: EventDeclaration[];
}

interface PendingEvent {
  event: DomainEvent;
  declaration: CompiledDeclaration;
}

/** Whether an attempt's outcome lets an event of this declaration go out (its `condition`). */
function releases(declaration: EventDeclaration, succeeded: boolean): boolean {
  return declaration.condition === 'always' || (declaration.condition === 'success') === succeeded;
}

/**
 * The publisher behind `ctx.publishEvent`: checks each event against the step's
 * `publishes_events`, keeps it until the attempt's outcome is known, writes the durable and
 * acknowledged ones to the namespace's event queue in the transaction that records the
 * outcome (a transactional outbox), and hands every released event to in-process delivery
 * after commit.
 */
export function createStepEventPublisher(options: StepEventPublisherOptions): StepEventPublisher {
  // Declarations per template step, compiled once: `ns/name@version/step`.
  const declarations = new Map<string, Promise<Map<string, CompiledDeclaration>>>();

  async function loadDeclarations(step: ClaimedStep): Promise<Map<string, CompiledDeclaration>> {
    const { rows } = await options.db.query<{ definition: { steps?: StoredStep[] } }>(
      'SELECT definition FROM tasker.named_templates WHERE namespace = $1 AND name = $2 AND version = $3',
      [step.namespace, step.task_name, step.version],
    );
    const stored = rows[0]?.definition.steps?.find((candidate) => candidate.name === step.step_name);
    const where = `${step.namespace}/${step.task_name}@${step.version} step ${step.step_name}`;
    return new Map(
      (stored?.publishesEvents ?? []).map((declaration) => [
        declaration.name,
        {
          ...declaration,
          validate: compileJsonSchema(
            declaration.schema,
            `${where} event ${declaration.name}`,
            'EVENT_INVALID',
          ),
        },
      ]),
    );
  }

  function declarationsOf(step: ClaimedStep): Promise<Map<string, CompiledDeclaration>> {
    const key = `${step.namespace}/${step.task_name}@${step.version}/${step.step_name}`;
    let found = declarations.get(key);
    if (!found) {
      found = loadDeclarations(step);
      found.catch(() => declarations.delete(key));
      declarations.set(key, found);
    }
    return found;
  }

  return {
    async begin(step: ClaimedStep, trace: { traceparent?: string } = {}): Promise<AttemptEvents> {
      const declared = await declarationsOf(step);
      const pending: PendingEvent[] = [];
      const releasedBy = (succeeded: boolean): PendingEvent[] =>
        options.enabled ? pending.filter((item) => releases(item.declaration, succeeded)) : [];
      const source = {
        taskUuid: step.task_uuid,
        stepUuid: step.step_uuid,
        stepName: step.step_name,
        namespace: step.namespace,
        correlationId: step.correlation_id,
        firedBy: options.workerId,
      };
      let sealed = false;
      return {
        seal(): void {
          sealed = true;
        },
        publish(name: string, payload: unknown): void {
          if (sealed) {
            throw new TaskerError(
              'EVENT_INVALID',
              `step ${step.step_name} published ${JSON.stringify(name)} after its attempt ${step.attempt} ended; publish before returning`,
            );
          }
          const declaration = declared.get(name);
          if (!declaration) {
            const names = [...declared.keys()].join(', ') || 'none';
            throw new TaskerError(
              'EVENT_INVALID',
              `step ${step.step_name} does not declare event ${JSON.stringify(name)} in publishes_events (it declares: ${names})`,
            );
          }
          if (!declaration.validate(payload)) {
            throw new TaskerError(
              'EVENT_INVALID',
              `payload of event ${name} does not match its schema: ${formatSchemaErrors(declaration.validate.errors)}`,
            );
          }
          // A snapshot, so later changes by the handler do not alter what was published.
          const frozen = JSON.parse(JSON.stringify(payload ?? null)) as unknown;
          pending.push({ event: createDomainEvent(name, frozen, source), declaration });
        },
        persists(succeeded: boolean): boolean {
          return releasedBy(succeeded).some((item) => item.declaration.delivery !== 'fire_and_forget');
        },
        async persist(tx: Queryable, succeeded: boolean): Promise<void> {
          const durable = releasedBy(succeeded).flatMap(({ event, declaration: { delivery } }) =>
            delivery === 'fire_and_forget' ? [] : [{ event, delivery }],
          );
          await persistEvents(tx, step.namespace, durable, { headers: trace });
        },
        release(succeeded: boolean): Promise<void> | undefined {
          const released = releasedBy(succeeded);
          if (released.length === 0) return undefined;
          for (const item of released) options.metrics.published(item.event, item.declaration.delivery);
          return options.inProcess.dispatch(released.map((item) => item.event));
        },
      };
    },
  };
}
