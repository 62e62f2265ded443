import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TaskerError } from '../../src/errors.js';
import { compilePattern, isValidPattern, validatePattern } from '../../src/events/domain/patterns.js';
import { assertValidEventName } from '../../src/templates/event-declarations.js';

interface PatternVectors {
  valid: { pattern: string; matches: string[]; rejects: string[] }[];
  invalid: { pattern: string; reason: string }[];
}

const vectors = JSON.parse(
  readFileSync(new URL('../vectors/patterns.json', import.meta.url), 'utf8'),
) as PatternVectors;

/**
 * Vector names are well-formed (lowercase segments); those with two segments or more are
 * also declarable by the templates' rule, so the vectors and the template validator agree.
 */
function checkName(name: string): void {
  expect(
    name.split('.').every((segment) => /^[a-z][a-z0-9_]*$/.test(segment)),
    name,
  ).toBe(true);
  if (name.includes('.')) assertValidEventName(name, 'vector');
}

/** The error `fn` throws (fails the test when it throws none). */
function thrown(fn: () => unknown): TaskerError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TaskerError);
    return error as TaskerError;
  }
  throw new Error('expected an error');
}

describe('pattern vectors (test/vectors/patterns.json)', () => {
  it('has at least 40 cases', () => {
    expect(vectors.valid.length + vectors.invalid.length).toBeGreaterThanOrEqual(40);
  });

  describe.each(vectors.valid)('valid $pattern', ({ pattern, matches, rejects }) => {
    const matcher = compilePattern(pattern);

    it('validates', () => {
      expect(() => validatePattern(pattern)).not.toThrow();
      expect(isValidPattern(pattern)).toBe(true);
    });

    it.each(matches)('matches %j', (name) => {
      checkName(name);
      expect(matcher(name)).toBe(true);
    });

    it.each(rejects)('rejects %j', (name) => {
      checkName(name);
      expect(matcher(name)).toBe(false);
    });
  });

  it.each(vectors.invalid)('invalid $pattern ($reason)', ({ pattern }) => {
    const error = thrown(() => validatePattern(pattern));
    expect(error.code).toBe('EVENT_INVALID');
    expect(error.message).toContain(JSON.stringify(pattern));
    expect(() => compilePattern(pattern)).toThrow(TaskerError);
    expect(isValidPattern(pattern)).toBe(false);
  });
});

describe('validatePattern messages', () => {
  it('names the mixed segment and how to write a wildcard', () => {
    expect(thrown(() => validatePattern('payment.char*')).message).toBe(
      'invalid event pattern "payment.char*": segment 2 "char*" mixes a wildcard with other characters; ' +
        'a wildcard must be a whole segment ("*" for one segment, "#" for zero or more)',
    );
  });

  it('names the reserved prefix and where the pattern came from', () => {
    expect(thrown(() => validatePattern('task.#', './handlers.ts subscribers[1]')).message).toBe(
      './handlers.ts subscribers[1]: "task.#" uses the reserved prefix "task." ' +
        '(task., step. and workflow. belong to system events, which are telemetry only)',
    );
    expect(thrown(() => validatePattern('workflow')).message).toMatch(
      /^event pattern: "workflow" uses the reserved/,
    );
  });

  it('says why a segment can never match', () => {
    expect(thrown(() => validatePattern('Payment.*')).message).toBe(
      'invalid event pattern "Payment.*": segment 1 "Payment" is not an event name segment ' +
        '(lowercase letters, digits and "_", starting with a letter), so it can never match',
    );
  });

  it('names an empty segment', () => {
    expect(thrown(() => validatePattern('a..b')).message).toContain('segment 2 is empty');
  });

  it('refuses a value that is not a string', () => {
    expect(thrown(() => validatePattern(42)).message).toBe('event pattern must be a string, got 42');
    expect(thrown(() => validatePattern(undefined, 'x')).message).toBe(
      'x: event pattern must be a string, got undefined',
    );
  });
});

/** The AMQP rule written the obvious way (recursion over segment arrays), as a reference. */
function referenceMatch(pattern: readonly string[], name: readonly string[]): boolean {
  if (pattern.length === 0) return name.length === 0;
  const [head, ...rest] = pattern;
  if (head === '#') {
    for (let skip = 0; skip <= name.length; skip++) if (referenceMatch(rest, name.slice(skip))) return true;
    return false;
  }
  if (name.length === 0) return false;
  return (head === '*' || head === name[0]) && referenceMatch(rest, name.slice(1));
}

describe('compilePattern against a reference matcher', () => {
  it('agrees on every pattern and name over a small alphabet', () => {
    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pick = <T>(items: readonly T[]) => items[random(items.length)]!;
    let compared = 0;
    for (let p = 0; p < 400; p++) {
      const pattern = Array.from({ length: 1 + random(5) }, () => pick(['a', 'b', '*', '#']));
      const matcher = compilePattern(pattern.join('.'));
      for (let n = 0; n < 40; n++) {
        const name = Array.from({ length: 1 + random(6) }, () => pick(['a', 'b', 'ab']));
        expect(matcher(name.join('.')), `${pattern.join('.')} vs ${name.join('.')}`).toBe(
          referenceMatch(pattern, name),
        );
        compared += 1;
      }
    }
    expect(compared).toBe(16_000);
  });
});
