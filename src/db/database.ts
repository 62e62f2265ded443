/**
 * The database seam: everything in Tasker talks to PostgreSQL through this interface, with
 * one adapter for a `pg` Pool (a real server) and one for PGlite (embedded, in process).
 *
 * Conventions both adapters keep: `int8` comes back as a JS number, `jsonb` as parsed JSON,
 * timestamps as `Date`. Pass JSON values as strings (`JSON.stringify`) with a `::jsonb` cast.
 */

/** Rows of one statement. */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/** Anything that runs statements: the database itself or an open transaction. */
export interface Queryable {
  /** One parameterised statement. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** A script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/** Called with the payload of each NOTIFY on a channel. */
export type NotificationHandler = (payload: string) => void;

/** Which adapter is behind a {@link Database}. */
export type DatabaseKind = 'postgres' | 'embedded';

/** A connected database: a pool of connections or one embedded instance. */
export interface Database extends Queryable {
  readonly kind: DatabaseKind;
  /** Where it points, for messages: `host:port/db` or the embedded data directory. */
  readonly description: string;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** LISTENs on `channel`; resolves once listening. The returned function stops it. */
  listen(channel: string, onNotify: NotificationHandler): Promise<() => Promise<void>>;
  /**
   * Called after the listening connection was lost and re-established: notifications sent
   * in between were missed, so consumers should look at their queues once.
   */
  onReconnect(handler: () => void): () => void;
  close(): Promise<void>;
}

const CHANNEL_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** LISTEN takes an identifier, not a parameter: only plain lowercase names are let through. */
export function assertChannelName(channel: string): void {
  if (!CHANNEL_NAME.test(channel)) {
    throw new Error(`invalid notification channel name ${JSON.stringify(channel)}`);
  }
}
