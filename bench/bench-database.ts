import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { parsePgmqMode } from '../src/db/connect.js';
import type { Database } from '../src/db/database.js';
import { migrate, type MigrationReport, type PgmqMode } from '../src/db/migrate.js';
import { describeConnectionString, openPgDatabase } from '../src/db/pg-database.js';

/** The server benchmarks run on: `DATABASE_URL`, or the local test server. */
export const BENCH_SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A freshly created, migrated database that exists only for one benchmark. */
export interface BenchDatabase {
  db: Database;
  /** Which PGMQ migrate installed: the server's extension or the bundled SQL. */
  pgmq: MigrationReport['pgmq'];
  /** `host:port` of the server, for the report. */
  server: string;
  serverVersion: string;
  /** Connection string of the benchmark's database, for processes the benchmark starts. */
  url: string;
}

async function onServer<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: BENCH_SERVER_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Whether the bench server can install the pgmq extension. */
export function serverOffersPgmq(): Promise<boolean> {
  return onServer(async (client) => {
    const { rows } = await client.query("SELECT 1 FROM pg_available_extensions WHERE name = 'pgmq'");
    return rows.length > 0;
  });
}

/**
 * Creates a database on the bench server, migrates it with `pgmq` (default TASKER_PGMQ, else
 * auto: the extension when the server offers it, else the bundled SQL), runs `fn` and drops the
 * database whatever happens.
 */
export async function withBenchDatabase<T>(
  poolSize: number,
  fn: (bench: BenchDatabase) => Promise<T>,
  pgmq: PgmqMode = parsePgmqMode(process.env.TASKER_PGMQ ?? 'auto'),
): Promise<T> {
  const name = `tasker_bench_${randomBytes(6).toString('hex')}`;
  const serverVersion = await onServer(async (client) => {
    await client.query(`CREATE DATABASE ${name}`);
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return rows[0]?.server_version ?? 'unknown';
  });
  const url = new URL(BENCH_SERVER_URL);
  url.pathname = `/${name}`;
  try {
    const db = await openPgDatabase({ connectionString: url.toString(), poolSize });
    try {
      const report = await migrate(db, { pgmq });
      const server = describeConnectionString(BENCH_SERVER_URL).replace(/\/.*$/, '');
      return await fn({ db, pgmq: report.pgmq, server, serverVersion, url: url.toString() });
    } finally {
      await db.close();
    }
  } finally {
    await onServer((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  }
}
