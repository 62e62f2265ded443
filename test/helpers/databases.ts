import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { it, onTestFailed } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { migrate, type PgmqMode } from '../../src/db/migrate.js';
import { openPgDatabase } from '../../src/db/pg-database.js';
import { openEmbeddedDatabase } from '../../src/db/pglite-database.js';

/** The real server the tests use; its `test` database is only used to create others. */
export const TEST_SERVER_URL =
  process.env.TASKER_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Both adapters, for `describe.each`. */
export const DATABASE_KINDS = ['postgres', 'embedded'] as const;
export type TestDatabaseKind = (typeof DATABASE_KINDS)[number];

/** A database of one test file, with the URL other processes can use to reach it. */
export interface TestDatabase {
  db: Database;
  /** Connection string of the server database; undefined for the embedded one. */
  url: string | undefined;
  /** Closes it; the server database is dropped unless a test failed (kept for inspection). */
  dispose(): Promise<void>;
}

/** URL of database `name` on the test server. */
export function serverUrl(name: string): string {
  const url = new URL(TEST_SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function onServer<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_SERVER_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database on the test server and returns its name and URL (not migrated). */
export async function createServerDatabase(): Promise<{ name: string; url: string }> {
  const name = `tasker_t_${randomBytes(6).toString('hex')}`;
  await onServer((client) => client.query(`CREATE DATABASE ${name}`));
  return { name, url: serverUrl(name) };
}

/** Drops a database created by {@link createServerDatabase}, ending its sessions. */
export async function dropServerDatabase(name: string): Promise<void> {
  await onServer((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

let failed = false;

/** Marks the current test file as failed so its database is kept; call in beforeEach. */
export function keepDatabaseOnFailure(): void {
  onTestFailed(() => {
    failed = true;
  });
}

/** A fresh, migrated database of the given kind, isolated from every other test. */
export async function createTestDatabase(
  kind: TestDatabaseKind,
  options: { pgmq?: PgmqMode; migrate?: boolean } = {},
): Promise<TestDatabase> {
  const pgmq = options.pgmq ?? 'auto';
  if (kind === 'embedded') {
    const db = await openEmbeddedDatabase();
    if (options.migrate !== false) await migrate(db, { pgmq });
    return { db, url: undefined, dispose: () => db.close() };
  }
  const { name, url } = await createServerDatabase();
  const db = await openPgDatabase({ connectionString: url, poolSize: 10 });
  if (options.migrate !== false) await migrate(db, { pgmq });
  return {
    db,
    url,
    async dispose() {
      await db.close();
      if (failed) console.warn(`kept test database ${name} for inspection`);
      else await dropServerDatabase(name);
    },
  };
}

/**
 * `it` on the real server only. The embedded database has one connection in one process, so
 * behaviour between concurrent connections (row locks, a lost listening connection) does not
 * exist there: such tests are not defined for it rather than reported as skipped.
 */
export function itOnServer(kind: TestDatabaseKind): typeof it {
  return kind === 'postgres' ? it : ((() => undefined) as unknown as typeof it);
}
