import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../helpers/databases.js';

/** The seam's rowCount means the same on both adapters: what `pg` reports. */
describe.each(DATABASE_KINDS)('query results on %s', (kind) => {
  let t: TestDatabase;

  beforeAll(async () => {
    t = await createTestDatabase(kind, { migrate: false });
    await t.db.exec('CREATE TABLE counted (id integer PRIMARY KEY, v text)');
  });
  afterAll(() => t.dispose());

  it('counts the rows a statement returned, or changed when it returns none', async () => {
    for (const db of ['outside', 'inside a transaction'] as const) {
      await t.db.exec('TRUNCATE counted');
      const check = async (q: typeof t.db | Parameters<Parameters<typeof t.db.transaction>[0]>[0]) => {
        expect((await q.query("INSERT INTO counted VALUES (1, 'a'), (2, 'b'), (3, 'c')")).rowCount).toBe(3);
        expect((await q.query('SELECT * FROM counted')).rowCount).toBe(3);
        expect((await q.query('SELECT * FROM counted WHERE id > 5')).rowCount).toBe(0);
        expect((await q.query("UPDATE counted SET v = 'x' WHERE id <= 2")).rowCount).toBe(2);
        expect((await q.query("UPDATE counted SET v = 'y' WHERE id = 2 RETURNING id")).rowCount).toBe(1);
        expect((await q.query('DELETE FROM counted WHERE id > 5')).rowCount).toBe(0);
      };
      if (db === 'outside') await check(t.db);
      else await t.db.transaction(check);
    }
  });
});
