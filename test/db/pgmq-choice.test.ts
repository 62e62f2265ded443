import { describe, expect, it } from 'vitest';
import { choosePgmq, type PgmqMode, type PgmqSituation } from '../../src/db/pgmq-choice.js';

type Expected = 'extension' | 'bundled' | RegExp;

/** Every mode against every situation: [offered, extension installed, bundled installed] → choice. */
const CASES: Array<[PgmqMode, [boolean, boolean, boolean], Expected]> = [
  ['auto', [false, false, false], 'bundled'],
  ['auto', [true, false, false], 'extension'],
  ['auto', [true, true, false], 'extension'],
  ['auto', [false, true, false], 'extension'],
  // A database set up on the bundled SQL keeps it when the server later offers the extension.
  ['auto', [false, false, true], 'bundled'],
  ['auto', [true, false, true], 'bundled'],
  ['auto', [true, true, true], 'extension'],
  ['auto', [false, true, true], 'extension'],
  ['extension', [false, false, false], /does not offer the pgmq extension/],
  ['extension', [true, false, false], 'extension'],
  ['extension', [true, true, false], 'extension'],
  ['extension', [false, true, false], 'extension'],
  ['extension', [false, false, true], /already runs the bundled pgmq SQL/],
  ['extension', [true, false, true], /already runs the bundled pgmq SQL/],
  ['extension', [true, true, true], /already runs the bundled pgmq SQL/],
  ['extension', [false, true, true], /already runs the bundled pgmq SQL/],
  ['bundled', [false, false, false], 'bundled'],
  ['bundled', [true, false, false], 'bundled'],
  ['bundled', [true, true, false], /pgmq extension is installed in this database/],
  ['bundled', [false, true, false], /pgmq extension is installed in this database/],
  ['bundled', [false, false, true], 'bundled'],
  ['bundled', [true, false, true], 'bundled'],
  ['bundled', [true, true, true], /pgmq extension is installed in this database/],
  ['bundled', [false, true, true], /pgmq extension is installed in this database/],
];

describe('choosePgmq', () => {
  it.each(CASES)('%s with [offered, extension, bundled] = %j → %s', (mode, flags, expected) => {
    const [offered, extensionInstalled, bundledInstalled] = flags;
    const situation: PgmqSituation = { offered, extensionInstalled, bundledInstalled };
    if (expected instanceof RegExp) {
      expect(() => choosePgmq(mode, situation)).toThrow(expected);
      expect(() => choosePgmq(mode, situation)).toThrow(
        expect.objectContaining({ code: 'PGMQ_UNAVAILABLE' }),
      );
    } else {
      expect(choosePgmq(mode, situation)).toBe(expected);
    }
  });
});
