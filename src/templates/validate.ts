/**
 * Turns one parsed YAML value into a TaskTemplate, or throws TEMPLATE_INVALID naming the file
 * and the path inside it: `examples/x.yaml: steps[2].dependencies[0]: unknown step "chrge_card"`.
 * Pure: the caller reads and parses the file.
 */
import { findCycle, formatCycle } from './dag.js';
import { parseEventDeclarations } from './event-declarations.js';
import {
  assertJsonValue,
  child,
  describeValue,
  editDistance,
  element,
  expectList,
  expectMapping,
  invalid,
  jsonCopy,
  optionalBoolean,
  optionalChoice,
  optionalInteger,
  optionalString,
  rejectUnknownKeys,
  requiredString,
  where,
  type Mapping,
  type Site,
} from './fields.js';
import { compileInputSchema } from './input-schema.js';
import { parseSemver } from './semver.js';
import {
  BACKOFF_KINDS,
  DEFAULT_DELIVERY,
  DEFAULT_RETRY,
  DEFAULT_TIMEOUT_SECONDS,
  type DeliveryMode,
  type HandlerReference,
  type RetryPolicy,
  type StepTemplate,
  type TaskTemplate,
} from './types.js';

/** Template, namespace and step names: lowercase letters, digits and `_`, starting with a letter. */
export const NAME_PATTERN = /^[a-z][a-z0-9_]*$/;

/** Longest template or step name: a PostgreSQL identifier's length, should one ever be derived from it. */
export const MAX_NAME_LENGTH = 63;

/**
 * Longest namespace. PGMQ queue names are at most 47 characters (its partitioned table prefix
 * `template_pgmq_q_` plus the name must fit PostgreSQL's 63-byte identifiers). The longest
 * queue built from a namespace is `<ns>_domain_events_dlq` (18 more characters; `worker_<ns>_queue`
 * adds 13), so a namespace may have 47 - 18 = 29.
 */
export const MAX_NAMESPACE_LENGTH = 29;

/** Longest `timeout_seconds`: one day. */
export const MAX_TIMEOUT_SECONDS = 86_400;

const TEMPLATE_KEYS = ['name', 'namespace_name', 'version', 'description', 'input_schema', 'steps'] as const;
const STEP_KEYS = [
  'name',
  'description',
  'handler',
  'dependencies',
  'depends_on',
  'retry',
  'timeout_seconds',
  'publishes_events',
] as const;
const HANDLER_KEYS = ['callable', 'initialization'] as const;
const RETRY_KEYS = ['retryable', 'max_attempts', 'backoff', 'backoff_base_ms', 'max_backoff_ms'] as const;

/** Options of template validation. */
export interface ValidateTemplateOptions {
  /** `delivery` of events that do not set one (configuration `events.default_delivery`); default `fire_and_forget`. */
  readonly defaultDelivery?: DeliveryMode;
}

/** Validates a parsed YAML document from `file` and returns the template with defaults applied. */
export function validateTemplate(
  value: unknown,
  file: string,
  options: ValidateTemplateOptions = {},
): TaskTemplate {
  const root: Site = { file, path: '' };
  if (value === null || value === undefined) invalid(root, 'the file holds no template (it is empty)');
  if (typeof value !== 'object' || Array.isArray(value)) {
    invalid(root, `a template must be a mapping of name, namespace_name, version and steps`);
  }
  const map = expectMapping(value, root);
  rejectUnknownKeys(map, TEMPLATE_KEYS, root);

  const name = readName(map, 'name', root, MAX_NAME_LENGTH);
  const namespace = readName(map, 'namespace_name', root, MAX_NAMESPACE_LENGTH);
  const version = readVersion(map, root);
  const description = optionalString(map, 'description', root);
  const inputSchema = readInputSchema(map, root);
  const steps = readSteps(map, root, options.defaultDelivery ?? DEFAULT_DELIVERY);

  return deepFreeze({
    name,
    namespace,
    version,
    ...(description === undefined ? {} : { description }),
    ...(inputSchema === undefined ? {} : { inputSchema }),
    steps,
    source: file,
  });
}

function readName(map: Mapping, key: string, site: Site, maxLength: number): string {
  const name = requiredString(map, key, site);
  const at = child(site, key);
  if (!NAME_PATTERN.test(name)) {
    invalid(
      at,
      `"${name}" must match ${NAME_PATTERN.source} (lowercase letters, digits and _, starting with a letter)`,
    );
  }
  if (name.length > maxLength) {
    const why = key === 'namespace_name' ? " so that its queue names fit PGMQ's 47 characters" : '';
    invalid(at, `"${name}" is ${name.length} characters; at most ${maxLength}${why}`);
  }
  return name;
}

function readVersion(map: Mapping, site: Site): string {
  const at = child(site, 'version');
  if (!Object.hasOwn(map, 'version')) invalid(at, 'is required');
  const raw = map.version;
  // YAML reads `version: 1.0` as the number 1; say so rather than "not a string".
  if (typeof raw === 'number') {
    invalid(at, `must be a semantic version such as 1.0.0, got the number ${raw} (YAML read it as a number)`);
  }
  const version = requiredString(map, 'version', site);
  const parsed = parseSemver(version);
  if (!parsed) invalid(at, `"${version}" is not a semantic version such as 1.0.0 (see semver.org)`);
  if (parsed.build.length > 0) {
    invalid(
      at,
      `"${version}": build metadata (+...) is not allowed, since versions must order unambiguously`,
    );
  }
  return version;
}

function readInputSchema(map: Mapping, site: Site): object | undefined {
  if (!Object.hasOwn(map, 'input_schema')) return undefined;
  const at = child(site, 'input_schema');
  const original = expectMapping(map.input_schema, at);
  assertJsonValue(original, at);
  const schema = jsonCopy(original);
  compileInputSchema(schema, where(at));
  return schema;
}

function readSteps(map: Mapping, site: Site, defaultDelivery: DeliveryMode): StepTemplate[] {
  const at = child(site, 'steps');
  if (!Object.hasOwn(map, 'steps')) invalid(at, 'is required (a list of steps)');
  const list = expectList(map.steps, at, 'a list of steps');
  if (list.length === 0) invalid(at, 'must list at least one step');

  const firstIndex = new Map<string, number>();
  const dependencyKeys: string[] = [];
  const steps = list.map((item, index) => {
    const stepSite = element(at, index);
    const { step, dependencyKey } = readStep(item, stepSite, defaultDelivery);
    const earlier = firstIndex.get(step.name);
    if (earlier !== undefined) {
      invalid(child(stepSite, 'name'), `duplicate step name "${step.name}" (first at steps[${earlier}])`);
    }
    firstIndex.set(step.name, index);
    dependencyKeys.push(dependencyKey);
    return step;
  });

  steps.forEach((step, index) => {
    const depSite = child(element(at, index), dependencyKeys[index] ?? 'dependencies');
    step.dependencies.forEach((dependency, position) => {
      if (firstIndex.has(dependency)) return;
      const suggestion = [...firstIndex.keys()].find((known) => editDistance(dependency, known) <= 2);
      const hint = suggestion ? ` (did you mean "${suggestion}"?)` : '';
      invalid(element(depSite, position), `unknown step "${dependency}"${hint}`);
    });
  });

  const cycle = findCycle(steps);
  if (cycle) {
    const index = firstIndex.get(cycle[0] as string) ?? 0;
    const depSite = child(element(at, index), dependencyKeys[index] ?? 'dependencies');
    invalid(depSite, `dependency cycle: ${formatCycle(cycle)}`);
  }
  return steps;
}

function readStep(
  value: unknown,
  site: Site,
  defaultDelivery: DeliveryMode,
): { step: StepTemplate; dependencyKey: string } {
  const map = expectMapping(value, site);
  rejectUnknownKeys(map, STEP_KEYS, site);
  const name = readName(map, 'name', site, MAX_NAME_LENGTH);
  const description = optionalString(map, 'description', site);
  if (!Object.hasOwn(map, 'handler')) invalid(child(site, 'handler'), 'is required (with a callable)');
  const handler = readHandler(map.handler, child(site, 'handler'));

  if (Object.hasOwn(map, 'dependencies') && Object.hasOwn(map, 'depends_on')) {
    invalid(child(site, 'depends_on'), 'use either dependencies or depends_on (an alias), not both');
  }
  const dependencyKey = Object.hasOwn(map, 'depends_on') ? 'depends_on' : 'dependencies';
  const dependencies = readDependencies(map[dependencyKey], child(site, dependencyKey), name);

  const retry = Object.hasOwn(map, 'retry') ? readRetry(map.retry, child(site, 'retry')) : DEFAULT_RETRY;
  const timeoutSeconds = optionalInteger(map, 'timeout_seconds', site, {
    fallback: DEFAULT_TIMEOUT_SECONDS,
    min: 1,
    max: MAX_TIMEOUT_SECONDS,
  });
  const publishesEvents = Object.hasOwn(map, 'publishes_events')
    ? parseEventDeclarations(map.publishes_events, child(site, 'publishes_events'), defaultDelivery)
    : [];

  const step: StepTemplate = {
    name,
    ...(description === undefined ? {} : { description }),
    handler,
    dependencies,
    retry: { ...retry },
    timeoutSeconds,
    publishesEvents,
  };
  return { step, dependencyKey };
}

function readHandler(value: unknown, site: Site): HandlerReference {
  const map = expectMapping(value, site);
  rejectUnknownKeys(map, HANDLER_KEYS, site);
  const callable = requiredString(map, 'callable', site);
  if (/\s/.test(callable)) invalid(child(site, 'callable'), `"${callable}" must not contain whitespace`);
  let initialization: Record<string, unknown> = {};
  if (Object.hasOwn(map, 'initialization')) {
    const at = child(site, 'initialization');
    const original = expectMapping(map.initialization, at);
    assertJsonValue(original, at);
    initialization = jsonCopy(original);
  }
  return { callable, initialization };
}

function readDependencies(value: unknown, site: Site, stepName: string): string[] {
  if (value === undefined) return [];
  const list = expectList(value, site, 'a list of step names');
  const seen = new Set<string>();
  return list.map((item, index) => {
    const at = element(site, index);
    if (typeof item !== 'string' || item === '')
      invalid(at, `must be a step name, got ${describeValue(item)}`);
    if (item === stepName) invalid(at, `step "${stepName}" cannot depend on itself`);
    if (seen.has(item)) invalid(at, `"${item}" is listed twice`);
    seen.add(item);
    return item;
  });
}

function readRetry(value: unknown, site: Site): RetryPolicy {
  const map = expectMapping(value, site);
  rejectUnknownKeys(map, RETRY_KEYS, site);
  const retryable = optionalBoolean(map, 'retryable', site, DEFAULT_RETRY.retryable);
  let maxAttempts = optionalInteger(map, 'max_attempts', site, {
    fallback: DEFAULT_RETRY.maxAttempts,
    min: 1,
    max: 1000,
  });
  const backoff = optionalChoice(map, 'backoff', site, BACKOFF_KINDS, DEFAULT_RETRY.backoff);
  const backoffBaseMs = optionalInteger(map, 'backoff_base_ms', site, {
    fallback: DEFAULT_RETRY.backoffBaseMs,
    min: 0,
  });
  const maxBackoffMs = optionalInteger(map, 'max_backoff_ms', site, {
    fallback: DEFAULT_RETRY.maxBackoffMs,
    min: 0,
  });
  if (maxBackoffMs < backoffBaseMs) {
    const explicit = Object.hasOwn(map, 'max_backoff_ms');
    const at = child(site, explicit ? 'max_backoff_ms' : 'backoff_base_ms');
    invalid(
      at,
      explicit
        ? `${maxBackoffMs} is below backoff_base_ms (${backoffBaseMs})`
        : `${backoffBaseMs} is above max_backoff_ms (${maxBackoffMs}, the default); raise max_backoff_ms too`,
    );
  }
  if (!retryable) {
    // A step that is not retryable runs once; a larger max_attempts would be a contradiction.
    if (Object.hasOwn(map, 'max_attempts') && maxAttempts > 1) {
      invalid(
        child(site, 'max_attempts'),
        `${maxAttempts} contradicts retryable: false (the step runs once)`,
      );
    }
    maxAttempts = 1;
  }
  return { retryable, maxAttempts, backoff, backoffBaseMs, maxBackoffMs };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value as object)) deepFreeze(item);
  }
  return value;
}
