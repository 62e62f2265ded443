import pg from 'pg';
import { TaskerError } from '../errors.js';
import { logger } from '../logging/logger.js';
import {
  assertChannelName,
  type Database,
  type NotificationHandler,
  type Queryable,
  type QueryResult,
} from './database.js';

const INT8_OID = 20;

/** int8 as a JS number, matching the embedded adapter (ids stay far below 2^53). */
const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
    oid === INT8_OID
      ? (value: string) => Number(value)
      : (pg.types.getTypeParser(oid, format) as unknown)) as pg.CustomTypesConfig['getTypeParser'],
};

/** Options of the server adapter. */
export interface PgDatabaseOptions {
  connectionString: string;
  poolSize?: number;
  /** Delay between attempts to re-open the listening connection. */
  reconnectDelayMs?: number;
}

/** `host:port/database` of a connection string, never its password. */
export function describeConnectionString(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    return `${url.hostname || 'localhost'}:${url.port || '5432'}${url.pathname || ''}`;
  } catch {
    return 'the server in DATABASE_URL';
  }
}

/** Turns a driver error raised while connecting into one line naming host and port. */
export function connectionError(description: string, error: unknown): TaskerError {
  const reason =
    error instanceof Error ? ((error as { code?: string }).code ?? error.message) : String(error);
  return new TaskerError('DATABASE_UNREACHABLE', `cannot reach PostgreSQL at ${description} (${reason})`, {
    cause: error,
  });
}

function clientQueryable(client: pg.PoolClient): Queryable {
  return {
    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const result = await client.query(sql, params as unknown[] | undefined);
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
    },
    async exec(sql: string): Promise<void> {
      await client.query(sql);
    },
  };
}

/**
 * Listens on one dedicated connection for all channels; when it drops (server restart),
 * it reconnects, LISTENs again and tells subscribers that notifications may have been missed.
 */
class Listener {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private readonly handlers = new Map<string, Set<NotificationHandler>>();
  private readonly reconnectHandlers = new Set<() => void>();
  private closed = false;
  /** LISTEN/UNLISTEN run one at a time on the shared connection. */
  private commands: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly options: PgDatabaseOptions,
    private readonly description: string,
  ) {}

  async listen(channel: string, handler: NotificationHandler): Promise<() => Promise<void>> {
    assertChannelName(channel);
    let set = this.handlers.get(channel);
    const first = set === undefined;
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
    }
    set.add(handler);
    const client = await this.connection();
    if (first) await this.command(client, `LISTEN ${channel}`);
    return async () => {
      set.delete(handler);
      if (set.size === 0 && this.handlers.get(channel) === set) {
        this.handlers.delete(channel);
        if (this.client && !this.closed)
          await this.command(this.client, `UNLISTEN ${channel}`).catch(() => undefined);
      }
    };
  }

  private command(client: pg.Client, sql: string): Promise<unknown> {
    const next = this.commands.then(() => client.query(sql));
    this.commands = next.catch(() => undefined);
    return next;
  }

  onReconnect(handler: () => void): () => void {
    this.reconnectHandlers.add(handler);
    return () => this.reconnectHandlers.delete(handler);
  }

  private connection(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async open(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.options.connectionString });
    client.on('notification', (message) => {
      for (const handler of this.handlers.get(message.channel) ?? []) handler(message.payload ?? '');
    });
    client.on('error', (error) => {
      logger.warn({ err: error.message }, 'listening connection lost');
      this.drop(client);
    });
    client.on('end', () => this.drop(client));
    try {
      await client.connect();
    } catch (error) {
      throw connectionError(this.description, error);
    }
    for (const channel of this.handlers.keys()) await client.query(`LISTEN ${channel}`);
    this.client = client;
    return client;
  }

  private drop(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    if (!this.closed && this.handlers.size > 0) this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delay = this.options.reconnectDelayMs ?? 500;
    const timer = setTimeout(() => {
      if (this.closed) return;
      this.connection().then(
        () => {
          logger.info('listening connection re-established');
          for (const handler of this.reconnectHandlers) handler();
        },
        () => this.scheduleReconnect(),
      );
    }, delay);
    timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    if (client) await client.end().catch(() => undefined);
  }
}

/** Opens a pool on a real PostgreSQL server and checks that it answers. */
export async function openPgDatabase(options: PgDatabaseOptions): Promise<Database> {
  const description = describeConnectionString(options.connectionString);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 10,
    types: typeParsers,
  });
  // Idle clients die when the server restarts; the pool replaces them on next use.
  pool.on('error', (error) => logger.warn({ err: error.message }, 'idle database connection lost'));
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw connectionError(description, error);
  }
  const listener = new Listener(options, description);

  return {
    kind: 'postgres',
    description,
    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const result = await pool.query(sql, params as unknown[] | undefined);
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
    },
    async exec(sql: string): Promise<void> {
      await pool.query(sql);
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      // A checked-out client has no 'error' listener: the server going away between two
      // statements (a restart) would be an unhandled 'error' that kills the process. Keep it:
      // the next statement fails anyway, and the broken client is discarded on release.
      let lost: Error | undefined;
      const onError = (error: Error): void => {
        lost = error;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn(clientQueryable(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.off('error', onError);
        client.release(lost);
      }
    },
    listen: (channel, handler) => listener.listen(channel, handler),
    onReconnect: (handler) => listener.onReconnect(handler),
    async close(): Promise<void> {
      await listener.close();
      await pool.end();
    },
  };
}
