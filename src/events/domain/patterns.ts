import { TaskerError } from '../../errors.js';

/*
 * Domain event names and subscription patterns (DESIGN.md "Patterns", "Reserved names").
 * Pure: no I/O. The rules are also kept as language-neutral test vectors in
 * test/vectors/patterns.json, which every client language runs.
 *
 * Rules
 * - A name is one or more segments separated by `.`; a segment is 1+ of `A-Z a-z 0-9 _ -`.
 *   Names are at most 255 characters (the AMQP routing-key limit).
 * - A pattern is a name whose segments may also be exactly `*` (one segment) or `#` (zero or
 *   more segments), AMQP topic rules. A wildcard mixed into a segment (`pay*`) is refused.
 * - Reserved: a name or pattern whose first segment is `task`, `step` or `workflow` (compared
 *   case-insensitively, so `Task.created` cannot pass for a system event either) is refused.
 *   Patterns that begin with a wildcard (`#`, `*.completed`, `#.failed`) are allowed although
 *   they could match such names in principle: system events are telemetry only and are never
 *   published as domain events, so these patterns only ever see domain events.
 */

/** First segments that belong to system events (tier 1) and cannot name domain events. */
export const RESERVED_EVENT_PREFIXES: readonly string[] = ['task', 'step', 'workflow'];

/** Longest accepted event name or pattern, in characters. */
export const MAX_EVENT_NAME_LENGTH = 255;

/** Tells whether an event name matches a compiled pattern. */
export type EventNameMatcher = (name: string) => boolean;

const SEGMENT = /^[A-Za-z0-9_-]+$/;

/** Refuses a name or pattern with an error naming it, where it came from, and why. */
function invalid(kind: 'name' | 'pattern', value: string, why: string, where?: string): TaskerError {
  const prefix = where ? `${where}: ` : '';
  return new TaskerError('EVENT_INVALID', `${prefix}invalid event ${kind} ${JSON.stringify(value)}: ${why}`);
}

/** Splits and checks a name or pattern; `wildcards` says whether `*` and `#` are allowed. */
function parse(value: unknown, kind: 'name' | 'pattern', where?: string): string[] {
  if (typeof value !== 'string') {
    const shown = value === undefined ? 'undefined' : (JSON.stringify(value) ?? typeof value);
    throw new TaskerError(
      'EVENT_INVALID',
      `${where ? `${where}: ` : ''}event ${kind} must be a string, got ${shown}`,
    );
  }
  if (value.length === 0) throw invalid(kind, value, 'it is empty', where);
  if (value.length > MAX_EVENT_NAME_LENGTH) {
    throw invalid(kind, value, `it is longer than ${MAX_EVENT_NAME_LENGTH} characters`, where);
  }
  const segments = value.split('.');
  segments.forEach((segment, index) => {
    const position = `segment ${index + 1}`;
    if (segment.length === 0) {
      throw invalid(kind, value, `${position} is empty (leading, trailing or doubled ".")`, where);
    }
    if (segment === '*' || segment === '#') {
      if (kind === 'name') throw invalid(kind, value, `wildcard "${segment}" is only allowed in patterns`, where);
      return;
    }
    if (SEGMENT.test(segment)) return;
    if (kind === 'pattern' && /[*#]/.test(segment)) {
      throw invalid(
        kind,
        value,
        `${position} "${segment}" mixes a wildcard with other characters; ` +
          'a wildcard must be a whole segment ("*" for one segment, "#" for zero or more)',
        where,
      );
    }
    throw invalid(
      kind,
      value,
      `${position} "${segment}" has characters other than letters, digits, "_" and "-"`,
      where,
    );
  });
  const first = segments[0]!.toLowerCase();
  if (RESERVED_EVENT_PREFIXES.includes(first)) {
    throw invalid(
      kind,
      value,
      `"${first}." names are reserved for system events (${RESERVED_EVENT_PREFIXES.map((p) => `${p}.*`).join(', ')}), ` +
        'which are telemetry only; choose a domain name such as "payment.charged"',
      where,
    );
  }
  return segments;
}

/**
 * Checks a subscription pattern; throws TaskerError `EVENT_INVALID` naming the pattern, the
 * offending segment and `where` (e.g. `./handlers.ts subscribers[2]`).
 */
export function validatePattern(pattern: unknown, where?: string): asserts pattern is string {
  parse(pattern, 'pattern', where);
}

/** Checks a domain event name (no wildcards, not reserved); throws TaskerError `EVENT_INVALID`. */
export function validateEventName(name: unknown, where?: string): asserts name is string {
  parse(name, 'name', where);
}

/** True when `pattern` passes {@link validatePattern}. */
export function isValidPattern(pattern: unknown): boolean {
  try {
    parse(pattern, 'pattern');
    return true;
  } catch {
    return false;
  }
}

const matchAll: EventNameMatcher = () => true;

/**
 * Validates `pattern` once and returns a matcher for valid event names (the result for an
 * invalid name is unspecified: names are validated when published).
 *
 * Literal patterns compare strings; `#` alone matches everything; any other pattern becomes
 * one anchored regular expression built from whole segments. Measured on Node 20 (2 cores):
 * the compiled expression tests 25-60 M names/s, a hand-written segment walker 26-30 M/s and
 * a segment automaton 8-15 M/s, so the expression is the fast path.
 */
export function compilePattern(pattern: string): EventNameMatcher {
  const segments = collapseHashes(parse(pattern, 'pattern'));
  if (!segments.some((s) => s === '*' || s === '#')) return (name) => name === pattern;
  if (segments.length === 1 && segments[0] === '#') return matchAll;
  const expression = new RegExp(patternSource(segments));
  return (name) => expression.test(name);
}

/** `#.#` matches what `#` matches; collapsing keeps the expression free of stacked repeats. */
function collapseHashes(segments: string[]): string[] {
  return segments.filter((s, i) => !(s === '#' && segments[i - 1] === '#'));
}

/**
 * The anchored expression of a pattern. Separators belong to the `#` groups so that `#` can
 * match zero segments: a leading `#` is `(seg\.)*`, any other `#` is `(\.seg)*`, and the
 * segment after a leading `#` has no `\.` of its own.
 */
function patternSource(segments: readonly string[]): string {
  let source = '^';
  segments.forEach((segment, index) => {
    if (segment === '#') {
      source += index === 0 ? '(?:[^.]+\\.)*' : '(?:\\.[^.]+)*';
      return;
    }
    const separator = index === 0 || (index === 1 && segments[0] === '#') ? '' : '\\.';
    source += separator + (segment === '*' ? '[^.]+' : escapeRegExp(segment));
  });
  return `${source}$`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|-]/g, '\\$&');
}
