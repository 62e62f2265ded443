import { loadConfig } from '../config/load.js';
import type { TaskerConfig } from '../config/schema.js';
import { connect, connectionOptionsFromEnv } from '../db/connect.js';
import type { Database } from '../db/database.js';
import { migrationFiles } from '../db/migrate.js';
import { TaskerError } from '../errors.js';

/** What every command that touches the database starts from. */
export interface Runtime {
  config: TaskerConfig;
  db: Database;
  close(): Promise<void>;
}

/**
 * Loads the configuration and opens the database: the server in DATABASE_URL (which must be
 * migrated, unless `autoMigrate`) or the embedded one (always migrated on open).
 */
export async function openRuntime(
  options: { autoMigrate?: boolean; inMemoryOk?: boolean; command?: string } = {},
): Promise<Runtime> {
  const config = await loadConfig();
  const connection = connectionOptionsFromEnv();
  // An in-memory embedded database lives and dies with this process: a task created there, or a
  // queue watched there, is seen by no one else.
  if (!options.inMemoryOk && !connection.databaseUrl && !connection.dataDir) {
    throw new TaskerError(
      'USAGE',
      `${options.command ?? 'this command'} needs DATABASE_URL (a server) or TASKER_DATA_DIR (an embedded database on disk); ` +
        'without them the embedded database is in memory and ends with this process',
    );
  }
  const db = await connect({
    ...connection,
    poolSize: config.database.pool_size,
    autoMigrate: options.autoMigrate ?? false,
  });
  try {
    if (db.kind === 'postgres' && !options.autoMigrate) await assertMigrated(db);
  } catch (error) {
    await db.close();
    throw error;
  }
  return { config, db, close: () => db.close() };
}

/** Refuses to run against a server whose schema is behind this version of Tasker. */
async function assertMigrated(db: Database): Promise<void> {
  const expected = await migrationFiles();
  let applied = new Set<string>();
  try {
    const { rows } = await db.query<{ name: string }>('SELECT name FROM tasker.schema_migrations');
    applied = new Set(rows.map((row) => row.name));
  } catch {
    // No migrations table: nothing applied yet.
  }
  const missing = expected.filter((name) => !applied.has(name));
  if (missing.length > 0) {
    throw new TaskerError(
      'MIGRATION_FAILED',
      `${db.description} is missing migrations ${missing.join(', ')}; run \`tasker migrate\` first`,
    );
  }
}

/** Parses a JSON option value, naming the option when it is not JSON. */
export function parseJsonOption(option: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TaskerError('USAGE', `${option} is not valid JSON: ${reason}`);
  }
}

/** Splits `NS/NAME[@VERSION]`. */
export function parseTaskRef(ref: string): { namespace: string; name: string; version?: string } {
  const match = /^([^/@\s]+)\/([^/@\s]+)(?:@(\S+))?$/.exec(ref);
  if (!match)
    throw new TaskerError(
      'USAGE',
      `--task must look like NAMESPACE/NAME[@VERSION], not ${JSON.stringify(ref)}`,
    );
  const [, namespace, name, version] = match;
  return { namespace: namespace!, name: name!, ...(version ? { version } : {}) };
}

/** Resolves on SIGTERM or SIGINT (graceful shutdown of long-running commands). */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/** Runs until SIGTERM/SIGINT, then stops gracefully, giving up after `timeoutMs`. */
export async function serveUntilSignal(
  name: string,
  stop: () => Promise<void>,
  timeoutMs: number,
): Promise<void> {
  process.stderr.write(`${name} running; SIGTERM or Ctrl-C stops it\n`);
  const signal = await untilSignal();
  process.stderr.write(`${name}: ${signal}, finishing work in hand\n`);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>(
    (resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)),
  );
  const outcome = await Promise.race([stop().then(() => 'stopped' as const), timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') process.stderr.write(`${name}: gave up waiting after ${timeoutMs}ms\n`);
}
