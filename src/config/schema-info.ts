import { z } from 'zod';
import { CONFIG_ENV_ALIASES, configSchema } from './schema.js';

/*
 * A flat, human-readable view of the configuration schema: one entry per section and key, with
 * the type described in words. The reference page and the validation errors both read it, so
 * the documentation and the error messages describe a key the same way.
 */

/** The fields of zod's JSON Schema output that this module reads. */
interface JsonSchemaNode {
  type?: string;
  description?: string;
  default?: unknown;
  enum?: readonly unknown[];
  format?: string;
  minLength?: number;
  minItems?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  'x-order'?: string;
}

/** One section (TOML table) or key of the configuration. */
export interface ConfigEntry {
  /** Path from the root, e.g. `['events', 'durable', 'max_delivery_attempts']`. */
  readonly path: readonly string[];
  readonly kind: 'section' | 'key';
  readonly description: string;
  /** The type in words without an article, e.g. `positive integer`. */
  readonly type: string;
  /** The type as an error message says it, e.g. `a positive integer`. */
  readonly expected: string;
  /** The JSON Schema type: `string` (also for enums and URLs), `integer`, `boolean`, `object`… */
  readonly jsonType: string;
  /** The default value; `undefined` for optional keys that are unset by default. */
  readonly default: unknown;
  /** The `TASKER__…` variable that overrides this entry. */
  readonly envVar: string;
  /** Spec 1.3 variables that also set this key. */
  readonly aliases: readonly string[];
  /** Names of the keys and sections directly inside a section. */
  readonly children: readonly string[];
}

let cachedEntries: readonly ConfigEntry[] | undefined;

/** Every section and key of the schema, depth-first in schema order (sections before their keys). */
export function configEntries(): readonly ConfigEntry[] {
  cachedEntries ??= collectEntries(z.toJSONSchema(configSchema, { io: 'input' }) as JsonSchemaNode, []);
  return cachedEntries;
}

/** The section or key at `path`, if the schema has one. */
export function findConfigEntry(path: readonly (string | number)[]): ConfigEntry | undefined {
  const wanted = path.join('.');
  return configEntries().find((entry) => entry.path.join('.') === wanted);
}

/** Names of the top-level sections. */
export function topLevelSections(): readonly string[] {
  return configEntries()
    .filter((entry) => entry.path.length === 1)
    .map((entry) => entry.path[0] ?? '');
}

/** The environment variable that overrides the key at `path`: `TASKER__EVENTS__ENABLED`. */
export function envVarName(path: readonly string[]): string {
  return ['TASKER', ...path.map((segment) => segment.toUpperCase())].join('__');
}

/** A key path as TOML would write it: dotted, quoting segments that are not bare keys. */
export function formatKeyPath(path: readonly (string | number)[]): string {
  return path
    .map((segment) =>
      typeof segment === 'number'
        ? `[${segment}]`
        : /^[A-Za-z0-9_-]+$/.test(segment)
          ? segment
          : JSON.stringify(segment),
    )
    .join('.')
    .replaceAll('.[', '[');
}

function collectEntries(node: JsonSchemaNode, path: readonly string[]): ConfigEntry[] {
  const entries: ConfigEntry[] = [];
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const childPath = [...path, name];
    const isSection = child.type === 'object' && child.properties !== undefined;
    const phrase = describeNode(child);
    entries.push({
      path: childPath,
      kind: isSection ? 'section' : 'key',
      description: child.description ?? '',
      type: phrase,
      expected: withArticle(phrase),
      jsonType: child.type ?? 'unknown',
      default: isSection ? undefined : child.default,
      envVar: envVarName(childPath),
      aliases: Object.entries(CONFIG_ENV_ALIASES)
        .filter(([, target]) => target.join('.') === childPath.join('.'))
        .map(([alias]) => alias),
      children: Object.keys(child.properties ?? {}),
    });
    if (isSection) entries.push(...collectEntries(child, childPath));
  }
  return entries;
}

/** The type of a JSON Schema node in words, without an article. */
function describeNode(node: JsonSchemaNode): string {
  if (node.enum) return `one of ${node.enum.map((value) => JSON.stringify(value)).join(', ')}`;
  switch (node.type) {
    case 'boolean':
      return 'boolean';
    case 'string':
      if (node.format === 'uri') return 'URL';
      return node.minLength !== undefined && node.minLength > 0 ? 'non-empty string' : 'string';
    case 'integer':
    case 'number':
      return describeNumber(node, node.type === 'integer' ? 'integer' : 'number');
    case 'array': {
      const parts = [
        node.minItems !== undefined && node.minItems > 0 ? 'non-empty' : '',
        node['x-order'] ?? '',
        'list of',
        node.items ? `${describeNode(node.items)}s` : 'values',
      ];
      return parts.filter((part) => part !== '').join(' ');
    }
    case 'object':
      return 'table';
    default:
      return 'value';
  }
}

function describeNumber(node: JsonSchemaNode, noun: string): string {
  // zod writes the safe-integer bounds of z.int() as limits; they say nothing to a reader.
  const max = node.maximum !== undefined && node.maximum < Number.MAX_SAFE_INTEGER ? node.maximum : undefined;
  const min = node.minimum !== undefined && node.minimum > Number.MIN_SAFE_INTEGER ? node.minimum : undefined;
  if (node.exclusiveMinimum === 0 && max === undefined) return `positive ${noun}`;
  if (min === 0 && max === undefined) return `non-negative ${noun}`;
  if (min !== undefined && max !== undefined) return `${noun} from ${min} to ${max}`;
  if (min !== undefined) return `${noun} of at least ${min}`;
  if (max !== undefined) return `${noun} of at most ${max}`;
  return noun;
}

function withArticle(phrase: string): string {
  if (phrase.startsWith('one of')) return phrase;
  return /^[aeio]/i.test(phrase) ? `an ${phrase}` : `a ${phrase}`;
}
