import type { Database } from './database.js';
import { openEmbeddedDatabase } from './pglite-database.js';
import { openPgDatabase } from './pg-database.js';
import { migrate, type PgmqMode } from './migrate.js';

/** Where to connect, read from the environment by {@link connectionOptionsFromEnv}. */
export interface ConnectionOptions {
  /** A PostgreSQL connection string; embedded PostgreSQL when absent. */
  databaseUrl?: string;
  /** Data directory of the embedded database; in memory when absent. */
  dataDir?: string;
  poolSize?: number;
  pgmq?: PgmqMode;
}

/** Reads `DATABASE_URL`, `TASKER_DATA_DIR` and `TASKER_PGMQ`. */
export function connectionOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ConnectionOptions {
  const options: ConnectionOptions = {};
  if (env.DATABASE_URL) options.databaseUrl = env.DATABASE_URL;
  if (env.TASKER_DATA_DIR) options.dataDir = env.TASKER_DATA_DIR;
  if (env.TASKER_PGMQ) options.pgmq = parsePgmqMode(env.TASKER_PGMQ);
  return options;
}

/** Validates `TASKER_PGMQ`. */
export function parsePgmqMode(value: string): PgmqMode {
  if (value === 'auto' || value === 'extension' || value === 'bundled') return value;
  throw new Error(`TASKER_PGMQ must be auto, extension or bundled, not ${JSON.stringify(value)}`);
}

/**
 * Opens the database. The embedded one is migrated on open (nobody else can run
 * `tasker migrate` against it); a server is migrated by `tasker migrate` unless `autoMigrate`.
 */
export async function connect(
  options: ConnectionOptions & { autoMigrate?: boolean } = {},
): Promise<Database> {
  if (options.databaseUrl) {
    const db = await openPgDatabase({
      connectionString: options.databaseUrl,
      poolSize: options.poolSize ?? 10,
    });
    if (options.autoMigrate) await migrateOrClose(db, options.pgmq);
    return db;
  }
  const db = await openEmbeddedDatabase(options.dataDir ? { dataDir: options.dataDir } : {});
  await migrateOrClose(db, options.pgmq);
  return db;
}

async function migrateOrClose(db: Database, pgmq: PgmqMode | undefined): Promise<void> {
  try {
    await migrate(db, { pgmq: pgmq ?? 'auto' });
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
}
