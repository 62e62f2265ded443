import type { z } from 'zod';
import { TaskerError } from '../errors.js';
import { formatValue, sourceOf, valueAt, type MergedConfig } from './merge.js';
import { configSchema, type TaskerConfig } from './schema.js';
import { findConfigEntry, formatKeyPath, topLevelSections } from './schema-info.js';

/**
 * Validates merged configuration against the schema and fills in defaults. Every problem is
 * reported on one line as `<file or variable>: <key>: expected <type>, got <value>`.
 * @throws TaskerError CONFIG_INVALID
 */
export function validateConfig(merged: MergedConfig): TaskerConfig {
  const result = configSchema.safeParse(merged.values);
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => describeIssue(issue, merged));
  throw new TaskerError('CONFIG_INVALID', problems.join('; '));
}

function describeIssue(issue: z.core.$ZodIssue, merged: MergedConfig): string[] {
  if (issue.code === 'unrecognized_keys') {
    const parent = schemaPath(issue.path);
    const known = parent.length === 0 ? topLevelSections() : (findConfigEntry(parent)?.children ?? []);
    const where = parent.length === 0 ? 'the top level' : formatKeyPath(parent);
    return issue.keys.map((key) => {
      const path = [...parent, key];
      return `${sourceLabel(merged, path)}: ${formatKeyPath(path)}: unknown key; ${where} has ${known.join(', ')}`;
    });
  }
  // An element of an array is reported as the array key, which is what the user wrote.
  const path = schemaPath(issue.path);
  const got = formatValue(valueAt(merged.values, path));
  const where = `${sourceLabel(merged, path)}: ${formatKeyPath(path)}`;
  if (issue.code === 'custom') return [`${where}: ${issue.message}, got ${got}`];
  const expected = findConfigEntry(path)?.expected ?? 'a valid value';
  return [`${where}: expected ${expected}, got ${got}`];
}

/** The longest prefix of an issue path that names a section or key of the schema. */
function schemaPath(path: readonly PropertyKey[]): (string | number)[] {
  const names: string[] = [];
  for (const segment of path) {
    if (typeof segment !== 'string' || !findConfigEntry([...names, segment])) break;
    names.push(segment);
  }
  return names;
}

function sourceLabel(merged: MergedConfig, path: readonly (string | number)[]): string {
  return sourceOf(merged, path) ?? 'configuration';
}
