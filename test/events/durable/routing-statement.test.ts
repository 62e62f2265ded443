/**
 * Publishers and routers match patterns inside PostgreSQL, with tasker.pattern_regex (migration
 * 0012): its regular expression must agree with compilePattern on every vector of
 * test/vectors/patterns.json, on both databases' regex engines.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePattern } from '../../../src/events/domain/patterns.js';
import { ROOT } from '../../engine/support/processes.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../../helpers/databases.js';

interface Vector {
  pattern: string;
  matches: string[];
  rejects: string[];
}

const VECTORS = (
  JSON.parse(readFileSync(path.join(ROOT, 'test/vectors/patterns.json'), 'utf8')) as { valid: Vector[] }
).valid;

describe.each(DATABASE_KINDS)('pattern regular expressions on %s', (kind) => {
  let testDb: TestDatabase | undefined;

  beforeAll(async () => {
    testDb = await createTestDatabase(kind);
  }, 60_000);

  afterAll(async () => {
    await testDb?.dispose();
  });

  it('agree with compilePattern on every vector', async () => {
    const cases = VECTORS.flatMap((vector) =>
      [...vector.matches, ...vector.rejects].map((name) => ({ pattern: vector.pattern, name })),
    );
    const { rows } = await testDb!.db.query<{ matched: boolean[] }>(
      `SELECT array_agg(('.' || c.name) ~ tasker.pattern_regex(c.pattern) ORDER BY c.n) AS matched
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS c(name, pattern, n)`,
      [cases.map((c) => c.name), cases.map((c) => c.pattern)],
    );
    const inSql = rows[0]!.matched;
    const expected = cases.map((c) => compilePattern(c.pattern)(c.name));
    expect(cases.filter((_, i) => inSql[i] !== expected[i])).toEqual([]);
    // The vectors' own verdicts, so that a regex agreeing with a wrong matcher still fails.
    const vectorVerdicts = VECTORS.flatMap((vector) => [
      ...vector.matches.map(() => true),
      ...vector.rejects.map(() => false),
    ]);
    expect(inSql).toEqual(vectorVerdicts);
  });
});
