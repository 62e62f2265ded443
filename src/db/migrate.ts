import { readdir, readFile } from 'node:fs/promises';
import { TaskerError } from '../errors.js';
import { logger } from '../logging/logger.js';
import type { Database, Queryable } from './database.js';
import { choosePgmq, type PgmqMode } from './pgmq-choice.js';

export type { PgmqMode } from './pgmq-choice.js';

/** What {@link migrate} did. */
export interface MigrationReport {
  pgmq: 'extension' | 'bundled';
  applied: string[];
}

const SQL_ROOT = new URL('../../sql/', import.meta.url);
const MIGRATIONS_DIR = new URL('migrations/', SQL_ROOT);
const BUNDLED_PGMQ = new URL('pgmq/pgmq-compat.sql', SQL_ROOT);
/** How the bundled SQL is recorded in tasker.schema_migrations, followed by its version. */
const BUNDLED_PGMQ_PREFIX = 'pgmq-bundled-';
/** Bumped whenever sql/pgmq/pgmq-compat.sql changes, so servers pick the change up. */
const BUNDLED_PGMQ_VERSION = `${BUNDLED_PGMQ_PREFIX}3`;
/** Serialises concurrent `migrate` calls across processes: an advisory lock, not a table trick. */
const MIGRATION_LOCK_KEY = 7_265_001;
const MIGRATION_FILE = /^(\d{4})_[a-z0-9_]+\.sql$/;

/** The numbered migration files, in order. */
export async function migrationFiles(): Promise<string[]> {
  const names = await readdir(MIGRATIONS_DIR);
  return names.filter((name) => MIGRATION_FILE.test(name)).sort();
}

/**
 * Brings the database to the current schema: installs PGMQ (extension or bundled) and applies
 * every numbered migration not yet recorded, all in one transaction under an advisory lock.
 * Safe to run any number of times, from any number of processes at once.
 */
export async function migrate(db: Database, options: { pgmq: PgmqMode }): Promise<MigrationReport> {
  const files = await migrationFiles();
  try {
    return await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      await tx.exec(`
        CREATE SCHEMA IF NOT EXISTS tasker;
        CREATE TABLE IF NOT EXISTS tasker.schema_migrations (
          name text PRIMARY KEY,
          applied_at timestamptz NOT NULL DEFAULT now()
        );`);
      const done = new Set(
        (await tx.query<{ name: string }>('SELECT name FROM tasker.schema_migrations')).rows.map(
          (r) => r.name,
        ),
      );
      const applied: string[] = [];
      const pgmq = await installPgmq(tx, options.pgmq, done, applied);
      for (const file of files) {
        if (done.has(file)) continue;
        await tx.exec(await readFile(new URL(file, MIGRATIONS_DIR), 'utf8'));
        await record(tx, file, applied);
      }
      if (applied.length > 0) logger.info({ applied, pgmq }, 'migrations applied');
      return { pgmq, applied };
    });
  } catch (error) {
    if (error instanceof TaskerError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new TaskerError('MIGRATION_FAILED', `migration failed on ${db.description}: ${message}`, {
      cause: error,
    });
  }
}

async function record(tx: Queryable, name: string, applied: string[]): Promise<void> {
  await tx.query('INSERT INTO tasker.schema_migrations (name) VALUES ($1)', [name]);
  applied.push(name);
}

async function installPgmq(
  tx: Queryable,
  mode: PgmqMode,
  done: Set<string>,
  applied: string[],
): Promise<'extension' | 'bundled'> {
  const extensionInstalled =
    (await tx.query("SELECT 1 FROM pg_extension WHERE extname = 'pgmq'")).rowCount > 0;
  const offered = (await tx.query("SELECT 1 FROM pg_available_extensions WHERE name = 'pgmq'")).rowCount > 0;
  const bundledInstalled = [...done].some((name) => name.startsWith(BUNDLED_PGMQ_PREFIX));
  const pgmq = choosePgmq(mode, { offered, extensionInstalled, bundledInstalled });
  if (pgmq === 'extension') {
    if (!extensionInstalled) await tx.exec('CREATE EXTENSION IF NOT EXISTS pgmq');
  } else if (!done.has(BUNDLED_PGMQ_VERSION)) {
    await tx.exec(await readFile(BUNDLED_PGMQ, 'utf8'));
    await record(tx, BUNDLED_PGMQ_VERSION, applied);
  }
  return pgmq;
}
