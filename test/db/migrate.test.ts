import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { migrate, migrationFiles } from '../../src/db/migrate.js';
import { openPgDatabase } from '../../src/db/pg-database.js';
import { openEmbeddedDatabase } from '../../src/db/pglite-database.js';
import { createServerDatabase, dropServerDatabase, keepDatabaseOnFailure } from '../helpers/databases.js';

async function applied(db: Database): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    'SELECT name FROM tasker.schema_migrations ORDER BY name',
  );
  return rows.map((row) => row.name);
}

describe('migrations on the real server', () => {
  let name: string;
  let url: string;
  const opened: Database[] = [];

  beforeEach(async () => {
    keepDatabaseOnFailure();
    ({ name, url } = await createServerDatabase());
  });

  afterEach(async () => {
    for (const db of opened.splice(0)) await db.close();
    await dropServerDatabase(name);
  });

  async function open(): Promise<Database> {
    const db = await openPgDatabase({ connectionString: url, poolSize: 2 });
    opened.push(db);
    return db;
  }

  it('applies every numbered file once, in order, and records it', async () => {
    const db = await open();
    const first = await migrate(db, { pgmq: 'auto' });
    const files = await migrationFiles();
    expect(files.length).toBeGreaterThanOrEqual(7);
    expect(first.applied).toEqual([expect.stringMatching(/^pgmq-bundled-\d+$/), ...files]);
    expect(first.pgmq).toBe('bundled');
    const again = await migrate(db, { pgmq: 'auto' });
    expect(again.applied).toEqual([]);
    expect(await applied(db)).toEqual([...first.applied].sort());
  });

  it('lets concurrent migrate calls from several connections apply each migration once', async () => {
    const dbs = await Promise.all([open(), open(), open(), open()]);
    const reports = await Promise.all(dbs.map((db) => migrate(db, { pgmq: 'bundled' })));
    const appliedCounts = reports.map((report) => report.applied.length).sort((a, b) => a - b);
    expect(appliedCounts.slice(0, 3)).toEqual([0, 0, 0]);
    expect(appliedCounts[3]).toBeGreaterThan(0);
    const names = await applied(dbs[0]);
    expect(new Set(names).size).toBe(names.length);
  });

  it('refuses TASKER_PGMQ=extension on a server without the pgmq extension, leaving nothing behind', async () => {
    const db = await open();
    await expect(migrate(db, { pgmq: 'extension' })).rejects.toMatchObject({
      code: 'PGMQ_UNAVAILABLE',
      message: expect.stringContaining('does not offer the pgmq extension') as unknown,
    });
    const { rows } = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM information_schema.schemata WHERE schema_name IN ('tasker', 'pgmq')",
    );
    expect(rows[0]?.n).toBe(0);
  });

  it('names the server and the failing statement when a migration cannot be applied', async () => {
    const db = await open();
    await db.exec('CREATE SCHEMA tasker; CREATE TABLE tasker.namespaces (name text)');
    await expect(migrate(db, { pgmq: 'bundled' })).rejects.toMatchObject({
      code: 'MIGRATION_FAILED',
      message: expect.stringMatching(
        /^migration failed on 127\.0\.0\.1:5432\/tasker_t_\w+: .*namespaces/,
      ) as unknown,
    });
    // One transaction: nothing of the failed run is recorded.
    const { rows } = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'tasker' AND table_name = 'schema_migrations'",
    );
    expect(rows[0]?.n).toBe(0);
  });
});

describe('migrations on the embedded database', () => {
  it('applies the same files with the bundled pgmq', async () => {
    const db = await openEmbeddedDatabase();
    try {
      const report = await migrate(db, { pgmq: 'auto' });
      expect(report.pgmq).toBe('bundled');
      expect(await applied(db)).toEqual([...report.applied].sort());
      expect((await migrate(db, { pgmq: 'auto' })).applied).toEqual([]);
    } finally {
      await db.close();
    }
  });
});
