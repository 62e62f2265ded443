import { TaskerError } from '../errors.js';

/**
 * Which PGMQ to use: the server's extension, our bundled SQL, or `auto`: what the database already
 * runs, and for a new one the extension when the server offers it.
 */
export type PgmqMode = 'auto' | 'extension' | 'bundled';

/** What a database and its server hold, as far as the choice of PGMQ goes. */
export interface PgmqSituation {
  /** The server lists pgmq in pg_available_extensions. */
  offered: boolean;
  /** CREATE EXTENSION pgmq was run in this database. */
  extensionInstalled: boolean;
  /** Our bundled SQL was installed in this database (some version of it). */
  bundledInstalled: boolean;
}

/**
 * The PGMQ a database runs, given the mode asked for and what is there. A database keeps the one
 * it was set up with: under `auto`, one already running the bundled SQL stays on it when the
 * server later offers the extension (the two keep their queues in the same tables, and moving
 * between them is an operator's decision, not a side effect of a restart).
 */
export function choosePgmq(mode: PgmqMode, situation: PgmqSituation): 'extension' | 'bundled' {
  const { offered, extensionInstalled, bundledInstalled } = situation;
  if (mode === 'extension') {
    if (bundledInstalled) {
      throw new TaskerError(
        'PGMQ_UNAVAILABLE',
        'TASKER_PGMQ=extension but this database already runs the bundled pgmq SQL; switching to the extension needs a new database',
      );
    }
    if (!offered && !extensionInstalled) {
      throw new TaskerError(
        'PGMQ_UNAVAILABLE',
        'TASKER_PGMQ=extension but this server does not offer the pgmq extension; use TASKER_PGMQ=bundled or auto',
      );
    }
    return 'extension';
  }
  if (mode === 'bundled') {
    if (extensionInstalled) {
      throw new TaskerError(
        'PGMQ_UNAVAILABLE',
        'TASKER_PGMQ=bundled but the pgmq extension is installed in this database; use TASKER_PGMQ=auto',
      );
    }
    return 'bundled';
  }
  if (extensionInstalled) return 'extension';
  if (bundledInstalled) return 'bundled';
  return offered ? 'extension' : 'bundled';
}
