import { parse as parseToml } from 'smol-toml';
import { TaskerError } from '../errors.js';
import { formatKeyPath } from './schema-info.js';

/*
 * Pure configuration layering: deep-merges TOML tables and environment overrides and remembers
 * which file or variable each value came from, so a validation error can name it. No I/O.
 */

/** A TOML table. Merged tables have no prototype, so a key like `__proto__` is just a key. */
export type ConfigTable = { [key: string]: unknown };

/** One source of values: a TOML file or one environment variable. */
export interface ConfigLayer {
  /** The file path or variable name shown in error messages. */
  readonly source: string;
  readonly values: ConfigTable;
}

/** The merged values and, for each table and value, the source that set it. */
export interface MergedConfig {
  readonly values: ConfigTable;
  /** Keyed by {@link pathKey}. */
  readonly sources: ReadonlyMap<string, string>;
}

/** Prefix of the variables that override any key: `TASKER__EVENTS__DURABLE__MAX_DELIVERY_ATTEMPTS`. */
export const ENV_PREFIX = 'TASKER__';

/** How environment variables map to keys; see {@link envLayers}. */
export interface EnvMapping {
  /** Variables with a fixed target key (spec 1.3), applied before `TASKER__` variables. */
  readonly aliases: Readonly<Record<string, readonly string[]>>;
  /** True when the key at `path` takes a string, so the raw text is kept as it is. */
  readonly expectsString: (path: readonly string[]) => boolean;
}

const SEPARATOR = '\u001f';

/** The map key of a path in {@link MergedConfig.sources}. */
export function pathKey(path: readonly (string | number)[]): string {
  return path.join(SEPARATOR);
}

/** True for a TOML table (a plain object; not an array or a TOML date). */
export function isTable(value: unknown): value is ConfigTable {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype;
}

/**
 * Deep-merges layers in order: tables merge key by key, arrays and scalars replace what was
 * there. A value's source is its last writer; a table's source is the first layer that made it.
 */
export function mergeLayers(layers: readonly ConfigLayer[]): MergedConfig {
  const values: ConfigTable = Object.create(null) as ConfigTable;
  const sources = new Map<string, string>();
  for (const layer of layers) mergeInto(values, layer.values, [], layer.source, sources);
  return { values, sources };
}

function mergeInto(
  target: ConfigTable,
  incoming: ConfigTable,
  prefix: readonly string[],
  source: string,
  sources: Map<string, string>,
): void {
  for (const [key, value] of Object.entries(incoming)) {
    const path = [...prefix, key];
    const existing = Object.hasOwn(target, key) ? target[key] : undefined;
    if (isTable(value) && isTable(existing)) {
      mergeInto(existing, value, path, source, sources);
      continue;
    }
    forgetDescendants(sources, path);
    sources.set(pathKey(path), source);
    if (isTable(value)) {
      const table = Object.create(null) as ConfigTable;
      target[key] = table;
      mergeInto(table, value, path, source, sources);
    } else {
      target[key] = value;
    }
  }
}

function forgetDescendants(sources: Map<string, string>, path: readonly string[]): void {
  const prefix = pathKey(path) + SEPARATOR;
  for (const key of [...sources.keys()]) if (key.startsWith(prefix)) sources.delete(key);
}

/** The source of the value at `path`, or of its nearest ancestor that has one. */
export function sourceOf(merged: MergedConfig, path: readonly (string | number)[]): string | undefined {
  for (let length = path.length; length > 0; length--) {
    const source = merged.sources.get(pathKey(path.slice(0, length)));
    if (source !== undefined) return source;
  }
  return undefined;
}

/** The value at `path` in a merged table, or `undefined`. */
export function valueAt(values: ConfigTable, path: readonly (string | number)[]): unknown {
  let current: unknown = values;
  for (const segment of path) {
    if (Array.isArray(current) && typeof segment === 'number') current = current[segment];
    else if (isTable(current) && Object.hasOwn(current, segment)) current = current[segment];
    else return undefined;
  }
  return current;
}

/**
 * One layer per configuration variable of `environ`: first the aliases (in their declared
 * order), then `TASKER__…` variables, shorter paths first so a specific key beats a whole table.
 * Path segments are case-insensitive (lower-cased); an empty value counts as unset.
 */
export function envLayers(environ: NodeJS.ProcessEnv, mapping: EnvMapping): ConfigLayer[] {
  const layers: ConfigLayer[] = [];
  for (const [name, path] of Object.entries(mapping.aliases)) {
    const raw = environ[name];
    if (raw === undefined || raw === '') continue;
    layers.push({ source: name, values: nest(path, parseEnvValue(raw, mapping.expectsString(path))) });
  }
  const prefixed = Object.entries(environ)
    .filter(([name, raw]) => name.toUpperCase().startsWith(ENV_PREFIX) && raw !== undefined && raw !== '')
    .map(([name, raw]) => ({ name, raw: raw ?? '', path: envPath(name) }))
    .sort((a, b) => a.path.length - b.path.length || a.name.localeCompare(b.name));
  for (const { name, raw, path } of prefixed) {
    layers.push({ source: name, values: nest(path, parseEnvValue(raw, mapping.expectsString(path))) });
  }
  return layers;
}

/** The key path a `TASKER__A__B` variable names: `['a', 'b']`. */
export function envPath(name: string): string[] {
  const path = name
    .slice(ENV_PREFIX.length)
    .split('__')
    .map((segment) => segment.toLowerCase());
  if (path.some((segment) => segment === '')) {
    throw new TaskerError(
      'CONFIG_INVALID',
      `${name}: not a configuration key; write its path with double underscores, e.g. ` +
        'TASKER__EVENTS__DURABLE__MAX_DELIVERY_ATTEMPTS',
    );
  }
  return path;
}

/**
 * Reads an environment value as a TOML value (`5`, `true`, `[0.1, 1.0]`, `"text"`), else as
 * the raw string. For keys that take a string the raw text is kept unless it is a quoted TOML
 * string, so `OTEL_SERVICE_NAME=2024` stays a name rather than becoming a number.
 */
export function parseEnvValue(raw: string, expectsString: boolean): unknown {
  let parsed: unknown;
  try {
    const table = parseToml(`value = ${raw}`, { unsafeKeyBehaviour: 'throw' });
    // A value with a newline could smuggle in more keys; then it is not one TOML value.
    if (Object.keys(table).length !== 1) return raw;
    parsed = table.value;
  } catch {
    return raw;
  }
  if (parsed instanceof Date) return raw; // a bare date is text to us; no key takes a date
  if (expectsString && typeof parsed !== 'string') return raw;
  return parsed;
}

function nest(path: readonly string[], value: unknown): ConfigTable {
  let table: unknown = value;
  for (let i = path.length - 1; i >= 0; i--) {
    const parent = Object.create(null) as ConfigTable;
    parent[path[i] ?? ''] = table;
    table = parent;
  }
  return table as ConfigTable;
}

/** A value as an error message shows it: `"five"`, `1.5`, `[1, 0.5]`. */
export function formatValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(formatValue).join(', ')}]`;
  if (isTable(value)) {
    if (Object.keys(value).length === 0) return '{}';
    return `{ ${Object.entries(value)
      .map(([key, item]) => `${formatKeyPath([key])} = ${formatValue(item)}`)
      .join(', ')} }`;
  }
  return JSON.stringify(value) ?? typeof value;
}
