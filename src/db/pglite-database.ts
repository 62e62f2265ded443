import { PGlite, type Transaction } from '@electric-sql/pglite';
import { assertChannelName, type Database, type Queryable, type QueryResult } from './database.js';

const INT8_OID = 20;

/** Options of the embedded adapter. */
export interface EmbeddedDatabaseOptions {
  /** A data directory to keep the database in; in memory when absent. */
  dataDir?: string;
}

/**
 * PGlite's result as the seam's: rowCount as `pg` counts it, the rows a statement returned or,
 * when it returns none, the rows it changed (PGlite reports 0 changed rows for a SELECT).
 */
function toQueryResult<R>(result: { rows: R[]; affectedRows?: number }): QueryResult<R> {
  return { rows: result.rows, rowCount: result.affectedRows || result.rows.length };
}

function transactionQueryable(tx: Transaction): Queryable {
  return {
    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      return toQueryResult(await tx.query<R>(sql, params as unknown[] | undefined));
    },
    async exec(sql: string): Promise<void> {
      await tx.exec(sql);
    },
  };
}

/**
 * Starts PostgreSQL in process (PGlite). It has one backend: statements and transactions
 * queue behind each other, so nothing may sleep or long-poll inside it.
 */
export async function openEmbeddedDatabase(options: EmbeddedDatabaseOptions = {}): Promise<Database> {
  const pglite = await PGlite.create(options.dataDir, {
    parsers: { [INT8_OID]: (value: string) => Number(value) },
  });

  return {
    kind: 'embedded',
    description: options.dataDir
      ? `embedded PostgreSQL in ${options.dataDir}`
      : 'embedded PostgreSQL in memory',
    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      return toQueryResult(await pglite.query<R>(sql, params as unknown[] | undefined));
    },
    async exec(sql: string): Promise<void> {
      await pglite.exec(sql);
    },
    transaction: <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> =>
      pglite.transaction((tx) => fn(transactionQueryable(tx))),
    async listen(channel, handler) {
      assertChannelName(channel);
      const unlisten = await pglite.listen(channel, handler);
      return unlisten;
    },
    // The embedded database lives in this process: its notifications cannot be lost.
    onReconnect: () => () => undefined,
    async close(): Promise<void> {
      await pglite.close();
    },
  };
}
