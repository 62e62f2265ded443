/**
 * Domain event declarations (`publishes_events`, spec 2.2): name rules, reserved prefixes,
 * payload schema compilation and the rule that one event name has one schema per namespace.
 * Pure: no I/O.
 */
import type { ValidateFunction } from 'ajv';
import { TaskerError, type TaskerErrorCode } from '../errors.js';
import {
  assertJsonValue,
  child,
  element,
  expectList,
  expectMapping,
  invalid,
  jsonCopy,
  optionalChoice,
  optionalString,
  rejectUnknownKeys,
  requiredString,
  where as describeSite,
  type Site,
} from './fields.js';
import { compileJsonSchema } from './json-schema.js';
import {
  DELIVERY_MODES,
  EVENT_CONDITIONS,
  type DeliveryMode,
  type EventDeclaration,
  type TaskTemplate,
} from './types.js';

/** `domain.action`: lowercase segments (letters, digits, `_`, starting with a letter), at least two. */
export const EVENT_NAME_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

/** Longest event name accepted. */
export const MAX_EVENT_NAME_LENGTH = 255;

/** First segments that belong to the system events (telemetry only, never domain events). */
export const RESERVED_EVENT_PREFIXES = ['task', 'step', 'workflow'] as const;

const DECLARATION_KEYS = ['name', 'description', 'schema', 'delivery', 'condition'] as const;

/**
 * Refuses a name or subscription pattern whose first segment is `task`, `step` or `workflow`.
 * `where` prefixes the message (`file: path` or `subscription "task.*"`).
 */
export function assertNotReservedEventName(
  name: string,
  where: string,
  code: TaskerErrorCode = 'EVENT_INVALID',
): void {
  const first = name.split('.')[0]?.toLowerCase() ?? '';
  if ((RESERVED_EVENT_PREFIXES as readonly string[]).includes(first)) {
    throw new TaskerError(
      code,
      `${where}: "${name}" uses the reserved prefix "${first}." (task., step. and workflow. belong to system events, which are telemetry only)`,
    );
  }
}

/** Refuses an event name that is not `domain.action` or that uses a reserved prefix. */
export function assertValidEventName(
  name: string,
  where: string,
  code: TaskerErrorCode = 'EVENT_INVALID',
): void {
  if (name.length > MAX_EVENT_NAME_LENGTH) {
    throw new TaskerError(
      code,
      `${where}: event name is ${name.length} characters, at most ${MAX_EVENT_NAME_LENGTH}`,
    );
  }
  if (!EVENT_NAME_PATTERN.test(name)) {
    throw new TaskerError(
      code,
      `${where}: "${name}" is not an event name like domain.action (lowercase segments of letters, digits and _, split by dots, at least two)`,
    );
  }
  assertNotReservedEventName(name, where, code);
}

/**
 * Compiles an event payload schema (draft 2020-12, or draft-07 by `$schema`) to a validator.
 * The publisher reuses it; compiling the same schema object twice returns the cached validator.
 */
export function compileEventSchema(
  schema: object,
  where: string,
  code: TaskerErrorCode = 'EVENT_INVALID',
): ValidateFunction {
  return compileJsonSchema(schema, where, code);
}

/** Reads and checks a step's `publishes_events` list (absent means none). */
export function parseEventDeclarations(
  value: unknown,
  site: Site,
  defaultDelivery: DeliveryMode,
): EventDeclaration[] {
  const list = expectList(value, site, 'a list of event declarations');
  const seen = new Map<string, number>();
  return list.map((item, index) => {
    const itemSite = element(site, index);
    const declaration = parseDeclaration(item, itemSite, defaultDelivery);
    const first = seen.get(declaration.name);
    if (first !== undefined) {
      invalid(
        child(itemSite, 'name'),
        `event "${declaration.name}" is already declared at ${element(site, first).path}`,
      );
    }
    seen.set(declaration.name, index);
    return declaration;
  });
}

function parseDeclaration(value: unknown, site: Site, defaultDelivery: DeliveryMode): EventDeclaration {
  const map = expectMapping(value, site);
  rejectUnknownKeys(map, DECLARATION_KEYS, site);
  const name = requiredString(map, 'name', site);
  assertValidEventName(name, describeSite(child(site, 'name')), 'TEMPLATE_INVALID');
  const description = optionalString(map, 'description', site);

  const schemaSite = child(site, 'schema');
  if (!Object.hasOwn(map, 'schema')) {
    invalid(schemaSite, 'is required: the JSON Schema of the payload (write {} to accept any payload)');
  }
  const original = expectMapping(map.schema, schemaSite);
  assertJsonValue(original, schemaSite);
  // The template keeps its own copy; ajv caches the validator compiled here for that object.
  const schema = jsonCopy(original);
  compileEventSchema(schema, describeSite(schemaSite), 'TEMPLATE_INVALID');

  const delivery = optionalChoice(map, 'delivery', site, DELIVERY_MODES, defaultDelivery);
  const condition = optionalChoice(map, 'condition', site, EVENT_CONDITIONS, 'success');
  return { name, ...(description === undefined ? {} : { description }), schema, delivery, condition };
}

/**
 * Refuses the same event name declared with different schemas in one namespace, across all
 * the templates given (subscribers of a name must see one payload shape). The message names
 * both declarations.
 */
export function assertConsistentEventSchemas(templates: readonly TaskTemplate[]): void {
  const first = new Map<string, { canonical: string; at: string }>();
  for (const template of templates) {
    template.steps.forEach((step, stepIndex) => {
      step.publishesEvents.forEach((event, eventIndex) => {
        const at = `${template.source}: steps[${stepIndex}].publishes_events[${eventIndex}].schema`;
        const key = `${template.namespace}\u0000${event.name}`;
        const canonical = canonicalJson(event.schema);
        const earlier = first.get(key);
        if (!earlier) {
          first.set(key, { canonical, at });
        } else if (earlier.canonical !== canonical) {
          throw new TaskerError(
            'TEMPLATE_INVALID',
            `${at}: event "${event.name}" in namespace ${template.namespace} has a different schema than at ${earlier.at}`,
          );
        }
      });
    });
  }
}

/** JSON with object keys sorted, so key order in YAML does not make two schemas differ. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
