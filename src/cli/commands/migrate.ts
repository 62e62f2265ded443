import type { Command } from 'commander';
import { TaskerError } from '../../errors.js';
import { connectionOptionsFromEnv } from '../../db/connect.js';
import { migrate } from '../../db/migrate.js';
import { openPgDatabase } from '../../db/pg-database.js';

/** `tasker migrate`: applies the schema to the server in DATABASE_URL. */
export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply the Tasker schema and PGMQ to the server in DATABASE_URL (idempotent)')
    .action(async () => {
      const options = connectionOptionsFromEnv();
      if (!options.databaseUrl) {
        throw new TaskerError(
          'USAGE',
          'tasker migrate needs DATABASE_URL; the embedded database is migrated automatically',
        );
      }
      const db = await openPgDatabase({ connectionString: options.databaseUrl, poolSize: 1 });
      try {
        const report = await migrate(db, { pgmq: options.pgmq ?? 'auto' });
        const what =
          report.applied.length > 0 ? `applied ${report.applied.join(', ')}` : 'already up to date';
        process.stdout.write(`${db.description}: ${what} (pgmq: ${report.pgmq})\n`);
      } finally {
        await db.close();
      }
    });
}
