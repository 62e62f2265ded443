import { describe, expect, it } from 'vitest';
import { compareSemver, parseSemver, type Semver } from '../../src/templates/semver.js';

const parse = (text: string): Semver => {
  const version = parseSemver(text);
  if (!version) throw new Error(`not semver: ${text}`);
  return version;
};

describe('semver', () => {
  it('orders versions as semver.org section 11 does', () => {
    const ordered = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.2.0',
      '1.10.0',
      '2.0.0',
      '99999999999999999999.0.0',
    ];
    for (let i = 0; i < ordered.length; i++) {
      for (let j = 0; j < ordered.length; j++) {
        const expected = Math.sign(i - j);
        expect(
          Math.sign(compareSemver(parse(ordered[i] as string), parse(ordered[j] as string))),
          `${ordered[i]} vs ${ordered[j]}`,
        ).toBe(expected);
      }
    }
  });

  it('ignores build metadata in precedence and keeps it parsed', () => {
    expect(compareSemver(parse('1.0.0+a'), parse('1.0.0+b'))).toBe(0);
    expect(parse('1.0.0-rc.1+build.5').build).toEqual(['build', '5']);
  });

  it.each(['1', '1.0', '1.0.0.0', '01.0.0', '1.0.0-', '1.0.0-01', '1.0.0+', 'v1.0.0', '1.0.0 '])(
    'refuses %j',
    (text) => {
      expect(parseSemver(text)).toBeUndefined();
    },
  );
});
