/**
 * Path-aware readers for values parsed from YAML. Every failure names the file and the path
 * inside it (`examples/x.yaml: steps[2].retry.max_attempts: ...`), so one line tells the
 * author what to fix and where. Pure: no I/O.
 */
import { TaskerError } from '../errors.js';

/** Where a value sits: the file and the path inside it, such as `steps[2].retry`. Root is ''. */
export interface Site {
  readonly file: string;
  readonly path: string;
}

/** A plain mapping parsed from YAML. */
export type Mapping = Record<string, unknown>;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The site of `key` inside the mapping at `site`. */
export function child(site: Site, key: string): Site {
  const segment = IDENTIFIER.test(key) ? key : JSON.stringify(key);
  if (site.path === '') return { file: site.file, path: segment };
  return { file: site.file, path: IDENTIFIER.test(key) ? `${site.path}.${key}` : `${site.path}[${segment}]` };
}

/** The site of item `index` of the list at `site`. */
export function element(site: Site, index: number): Site {
  return { file: site.file, path: `${site.path}[${index}]` };
}

/** `file: path` (or just `file` at the root): the prefix of every message about this site. */
export function where(site: Site): string {
  return site.path === '' ? site.file : `${site.file}: ${site.path}`;
}

/** Throws the TEMPLATE_INVALID error `file: path: message`. */
export function invalid(site: Site, message: string): never {
  throw new TaskerError('TEMPLATE_INVALID', `${where(site)}: ${message}`);
}

/** A short description of a value for messages: `the number 3`, `a list`, `null`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return `the string ${JSON.stringify(value)}`;
    case 'number':
    case 'boolean':
    case 'bigint':
      return `the ${typeof value} ${String(value)}`;
    case 'object':
      return isPlainObject(value) ? 'a mapping' : `a ${value.constructor?.name ?? 'non-JSON'} value`;
    default:
      return `a ${typeof value}`;
  }
}

function isPlainObject(value: unknown): value is Mapping {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** The value as a mapping, or a failure naming what was found instead. */
export function expectMapping(value: unknown, site: Site): Mapping {
  if (!isPlainObject(value)) invalid(site, `must be a mapping, got ${describeValue(value)}`);
  return value;
}

/** The value as a list, or a failure naming what was found instead. */
export function expectList(value: unknown, site: Site, what = 'a list'): readonly unknown[] {
  if (!Array.isArray(value)) invalid(site, `must be ${what}, got ${describeValue(value)}`);
  return value;
}

/** Refuses keys outside `allowed`, suggesting the closest allowed key for a likely typo. */
export function rejectUnknownKeys(map: Mapping, allowed: readonly string[], site: Site): void {
  for (const key of Object.keys(map)) {
    if (allowed.includes(key)) continue;
    const suggestion = closest(key, allowed);
    const hint = suggestion ? `did you mean "${suggestion}"? ` : '';
    invalid(child(site, key), `unknown key (${hint}allowed: ${allowed.join(', ')})`);
  }
}

/** The required string at `key`: present, a string, not blank. */
export function requiredString(map: Mapping, key: string, site: Site): string {
  if (!Object.hasOwn(map, key)) invalid(child(site, key), 'is required');
  return stringAt(map[key], child(site, key));
}

/** The optional string at `key`, or undefined when the key is absent. */
export function optionalString(map: Mapping, key: string, site: Site): string | undefined {
  return Object.hasOwn(map, key) ? stringAt(map[key], child(site, key)) : undefined;
}

function stringAt(value: unknown, site: Site): string {
  if (typeof value !== 'string') invalid(site, `must be a string, got ${describeValue(value)}`);
  if (value.trim() === '') invalid(site, 'must not be empty');
  return value;
}

/** The optional boolean at `key`, or `fallback`. */
export function optionalBoolean(map: Mapping, key: string, site: Site, fallback: boolean): boolean {
  if (!Object.hasOwn(map, key)) return fallback;
  const value = map[key];
  if (typeof value !== 'boolean')
    invalid(child(site, key), `must be true or false, got ${describeValue(value)}`);
  return value;
}

/** The optional integer at `key` within `[min, max]`, or `fallback`. */
export function optionalInteger(
  map: Mapping,
  key: string,
  site: Site,
  bounds: { fallback: number; min: number; max?: number },
): number {
  if (!Object.hasOwn(map, key)) return bounds.fallback;
  const value = map[key];
  const max = bounds.max ?? Number.MAX_SAFE_INTEGER;
  const range = bounds.max === undefined ? `at least ${bounds.min}` : `between ${bounds.min} and ${max}`;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < bounds.min || value > max) {
    invalid(child(site, key), `must be an integer ${range}, got ${describeValue(value)}`);
  }
  return value;
}

/** The optional value at `key` that must be one of `choices`, or `fallback`. */
export function optionalChoice<T extends string>(
  map: Mapping,
  key: string,
  site: Site,
  choices: readonly T[],
  fallback: T,
): T {
  if (!Object.hasOwn(map, key)) return fallback;
  const value = map[key];
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    invalid(child(site, key), `must be one of ${choices.join(', ')}, got ${describeValue(value)}`);
  }
  return value as T;
}

/**
 * Refuses anything JSON cannot carry (YAML tags such as `!!binary`, non-finite numbers, an
 * alias that contains itself), since handler configuration and schemas are stored as JSON.
 */
export function assertJsonValue(value: unknown, site: Site, ancestors: Set<object> = new Set()): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) invalid(site, `must be a finite number, got ${String(value)}`);
    return;
  }
  if (typeof value === 'object' && ancestors.has(value))
    invalid(site, 'refers to itself (a recursive YAML alias)');
  if (Array.isArray(value)) {
    ancestors.add(value);
    value.forEach((item, index) => assertJsonValue(item, element(site, index), ancestors));
    ancestors.delete(value);
    return;
  }
  if (isPlainObject(value)) {
    ancestors.add(value);
    for (const [key, item] of Object.entries(value)) assertJsonValue(item, child(site, key), ancestors);
    ancestors.delete(value);
    return;
  }
  invalid(site, `must be a JSON value, got ${describeValue(value)}`);
}

/** A deep copy of a value that passed assertJsonValue, so templates never share the caller's objects. */
export function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** The allowed key within edit distance 2 of `key`, if exactly one is that close. */
function closest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of allowed) {
    const distance = editDistance(key.toLowerCase(), candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance; inputs are short key names. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
