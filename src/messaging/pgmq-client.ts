import { ASYNC_COMMIT_COLUMN } from '../db/async-commit.js';
import type { Database, Queryable } from '../db/database.js';
import { errorCode, TaskerError } from '../errors.js';
import { assertQueueName } from './queue-names.js';
import { SendCoalescer, type PendingSend } from './send-coalescer.js';

/** One message as read from a queue (pgmq's `message_record`). */
export interface QueueMessage<T> {
  msgId: number;
  /** How many times it was read, this read included (0 after `pop`). */
  readCount: number;
  enqueuedAt: Date;
  /** When it becomes visible again unless deleted or archived before. */
  vt: Date;
  message: T;
  headers: Record<string, unknown> | null;
}

/** Figures of one queue (pgmq's `metrics_result`). */
export interface QueueMetrics {
  queueName: string;
  queueLength: number;
  queueVisibleLength: number;
  /** Age of the newest and oldest message; null when the queue is empty. */
  newestMsgAgeSec: number | null;
  oldestMsgAgeSec: number | null;
  /** Messages ever sent to the queue. */
  totalMessages: number;
  scrapeTime: Date;
}

/** One queue as listed by pgmq (`queue_record`). */
export interface QueueInfo {
  queueName: string;
  isPartitioned: boolean;
  isUnlogged: boolean;
  createdAt: Date;
}

/** Options of {@link PgmqClient.send}. */
export interface SendOptions {
  headers?: Record<string, unknown>;
  /** Seconds before the message becomes visible; 0 (default) = at once. */
  delaySeconds?: number;
  /** Send inside this transaction: the message and its notification appear at its commit. */
  tx?: Queryable;
}

/** Options of {@link PgmqClient.sendBatch}. */
export interface SendBatchOptions {
  /** One entry per message, in the same order. */
  headers?: Record<string, unknown>[];
  delaySeconds?: number;
  tx?: Queryable;
}

/** Options of {@link PgmqClient.read}. */
export interface ReadOptions {
  /** How long the messages read stay hidden from other readers. */
  vtSeconds: number;
  /** At most this many messages. */
  qty: number;
  /** Only messages whose JSON contains this (jsonb `@>`), as pgmq's `conditional`. */
  conditional?: Record<string, unknown>;
}

/**
 * The NOTIFY channel that announces new messages on `queue`. Tasker's convention, not pgmq's:
 * consumers LISTEN on it and read when woken.
 */
export function notificationChannel(queue: string): string {
  assertQueueName(queue);
  return `pgmq_${queue}`;
}

/** A row of pgmq's `message_record`, as the database returns it. */
export interface MessageRow {
  msg_id: number;
  read_ct: number;
  enqueued_at: Date;
  vt: Date;
  message: unknown;
  headers: Record<string, unknown> | null;
}

interface MetricsRow {
  queue_name: string;
  queue_length: number;
  newest_msg_age_sec: number | null;
  oldest_msg_age_sec: number | null;
  total_messages: number;
  scrape_time: Date;
  queue_visible_length: number;
}

const MESSAGE_COLUMNS = 'msg_id, read_ct, enqueued_at, vt, message, headers';
const METRICS_COLUMNS =
  'queue_name, queue_length, newest_msg_age_sec, oldest_msg_age_sec, total_messages, scrape_time, queue_visible_length';
const UNDEFINED_TABLE = '42P01';

/** A `message_record` row as a {@link QueueMessage}. */
export function toMessage<T>(row: MessageRow): QueueMessage<T> {
  return {
    msgId: row.msg_id,
    readCount: row.read_ct,
    enqueuedAt: row.enqueued_at,
    vt: row.vt,
    message: row.message as T,
    headers: row.headers,
  };
}

function toMetrics(row: MetricsRow): QueueMetrics {
  return {
    queueName: row.queue_name,
    queueLength: row.queue_length,
    queueVisibleLength: row.queue_visible_length,
    newestMsgAgeSec: row.newest_msg_age_sec,
    oldestMsgAgeSec: row.oldest_msg_age_sec,
    totalMessages: row.total_messages,
    scrapeTime: row.scrape_time,
  };
}

function assertWholeSeconds(what: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min || value > 2_147_483_647) {
    throw new TaskerError('USAGE', `${what} must be a whole number of at least ${min}, not ${String(value)}`);
  }
}

/** JSON text for a `::jsonb` parameter; `undefined` is stored as JSON null. */
function json(value: unknown): string {
  return JSON.stringify(value ?? null);
}

/** Options of {@link PgmqClient}. */
export interface PgmqClientOptions {
  /**
   * Group concurrent single sends to one queue into one statement (see send-coalescer.ts);
   * default true. Sends inside a caller's transaction or with a delay are never grouped.
   */
  coalesceSends?: boolean;
}

// The NOTIFY rides in the same statement as the insert: delivered at its commit, or never.
const SEND_SQL = `SELECT pgmq.send($1::text, $2::jsonb, $3::jsonb, $4::integer) AS msg_id, pg_notify($5, '')`;
const SEND_BATCH_SQL = `SELECT s.msg_id
   FROM pgmq.send_batch($1::text, $2::jsonb[], $3::jsonb[], $4::integer) WITH ORDINALITY AS s(msg_id, n),
        (SELECT pg_notify($5, '')) AS notified
  ORDER BY s.n`;

/**
 * A typed client of the pgmq SQL API. It calls only pgmq's public functions, so it works the same
 * on the pgmq extension and on Tasker's bundled SQL. Queue names are checked before any SQL;
 * every method accepting `tx` runs inside the caller's transaction.
 */
export class PgmqClient {
  private readonly coalescer: SendCoalescer | undefined;

  constructor(
    private readonly db: Database,
    options: PgmqClientOptions = {},
  ) {
    this.coalescer =
      options.coalesceSends === false
        ? undefined
        : new SendCoalescer((queue, sends) => this.flushSends(queue, sends));
  }

  /** Creates the queue unless it exists. `unlogged`: faster, but emptied by a server crash. */
  async createQueue(name: string, options: { unlogged?: boolean } = {}): Promise<void> {
    assertQueueName(name);
    const fn = options.unlogged ? 'pgmq.create_unlogged' : 'pgmq.create';
    await this.db.query(`SELECT ${fn}($1::text)`, [name]);
  }

  /** Drops the queue and its archive; false when there was no such queue. */
  async dropQueue(name: string): Promise<boolean> {
    assertQueueName(name);
    const { rows } = await this.db.query<{ dropped: boolean }>(
      'SELECT pgmq.drop_queue($1::text) AS dropped',
      [name],
    );
    return rows[0]?.dropped === true;
  }

  /**
   * Sends one message and wakes the queue's listeners with a NOTIFY issued by the same statement,
   * so the notification is delivered exactly when the message becomes visible to readers (at the
   * commit of `tx` when given). Concurrent sends may share one statement; each still resolves
   * only once its own message is committed.
   * @returns the new message id.
   */
  async send<T>(queue: string, message: T, options: SendOptions = {}): Promise<number> {
    const channel = notificationChannel(queue);
    const delay = options.delaySeconds ?? 0;
    assertWholeSeconds('delaySeconds', delay, 0);
    const headers = options.headers === undefined ? null : json(options.headers);
    if (this.coalescer !== undefined && options.tx === undefined && delay === 0) {
      return this.coalescer.send(queue, { message: json(message), headers });
    }
    const rows = await this.run<{ msg_id: number }>(queue, options.tx, SEND_SQL, [
      queue,
      json(message),
      headers,
      delay,
      channel,
    ]);
    const id = rows[0]?.msg_id;
    if (id === undefined) throw new Error(`pgmq.send on queue ${queue} returned no id`);
    return id;
  }

  /**
   * Sends several messages in one statement with one NOTIFY.
   * @returns their ids, in the order of `messages`.
   */
  async sendBatch<T>(
    queue: string,
    messages: readonly T[],
    options: SendBatchOptions = {},
  ): Promise<number[]> {
    const channel = notificationChannel(queue);
    const delay = options.delaySeconds ?? 0;
    assertWholeSeconds('delaySeconds', delay, 0);
    if (options.headers !== undefined && options.headers.length !== messages.length) {
      throw new TaskerError(
        'USAGE',
        `sendBatch to queue ${queue}: ${options.headers.length} headers for ${messages.length} messages`,
      );
    }
    if (messages.length === 0) return [];
    const headers = options.headers?.map((h) => json(h)) ?? null;
    const rows = await this.run<{ msg_id: number }>(queue, options.tx, SEND_BATCH_SQL, [
      queue,
      messages.map((m) => json(m)),
      headers,
      delay,
      channel,
    ]);
    return rows.map((r) => r.msg_id);
  }

  /** One statement for a group of coalesced sends (headers NULL when none has any). */
  private async flushSends(queue: string, sends: readonly PendingSend[]): Promise<number[]> {
    const channel = notificationChannel(queue);
    const [only] = sends;
    if (sends.length === 1 && only !== undefined) {
      const rows = await this.run<{ msg_id: number }>(queue, undefined, SEND_SQL, [
        queue,
        only.message,
        only.headers,
        0,
        channel,
      ]);
      return rows.map((r) => r.msg_id);
    }
    const headers = sends.some((s) => s.headers !== null) ? sends.map((s) => s.headers) : null;
    const messages = sends.map((s) => s.message);
    const rows = await this.run<{ msg_id: number }>(queue, undefined, SEND_BATCH_SQL, [
      queue,
      messages,
      headers,
      0,
      channel,
    ]);
    return rows.map((r) => r.msg_id);
  }

  /**
   * Reads up to `qty` visible messages, oldest first, hiding them for `vtSeconds`. Outside a
   * transaction the read commits without waiting for the WAL flush (src/db/async-commit.ts): a
   * server crash can only undo the hiding, making the messages visible again sooner, which
   * at-least-once delivery allows; the wait saved is a disk flush on every consumer's path.
   */
  async read<T>(queue: string, options: ReadOptions, tx?: Queryable): Promise<QueueMessage<T>[]> {
    assertQueueName(queue);
    assertWholeSeconds('vtSeconds', options.vtSeconds, 0);
    assertWholeSeconds('qty', options.qty, 1);
    const asyncCommit = tx === undefined ? `${ASYNC_COMMIT_COLUMN}, ` : '';
    const rows = await this.run<MessageRow>(
      queue,
      tx,
      `SELECT ${asyncCommit}${MESSAGE_COLUMNS} FROM pgmq.read($1::text, $2::integer, $3::integer, $4::jsonb) ORDER BY msg_id`,
      [queue, options.vtSeconds, options.qty, json(options.conditional ?? {})],
    );
    return rows.map((row) => toMessage<T>(row));
  }

  /** Takes and deletes the oldest visible message; undefined when there is none. */
  async pop<T>(queue: string, tx?: Queryable): Promise<QueueMessage<T> | undefined> {
    assertQueueName(queue);
    const rows = await this.run<MessageRow>(queue, tx, `SELECT ${MESSAGE_COLUMNS} FROM pgmq.pop($1::text)`, [
      queue,
    ]);
    return rows[0] === undefined ? undefined : toMessage<T>(rows[0]);
  }

  /** Deletes one message (true when it existed) or several (the ids that existed). */
  delete(queue: string, id: number, tx?: Queryable): Promise<boolean>;
  delete(queue: string, ids: readonly number[], tx?: Queryable): Promise<number[]>;
  async delete(
    queue: string,
    idOrIds: number | readonly number[],
    tx?: Queryable,
  ): Promise<boolean | number[]> {
    return this.finish('delete', queue, idOrIds, tx);
  }

  /** Moves one message (true when it existed) or several (the ids moved) to the archive table. */
  archive(queue: string, id: number, tx?: Queryable): Promise<boolean>;
  archive(queue: string, ids: readonly number[], tx?: Queryable): Promise<number[]>;
  async archive(
    queue: string,
    idOrIds: number | readonly number[],
    tx?: Queryable,
  ): Promise<boolean | number[]> {
    return this.finish('archive', queue, idOrIds, tx);
  }

  /** Makes a message visible `vtSeconds` from now (0: at once); undefined when it does not exist. */
  async setVt<T>(
    queue: string,
    id: number,
    vtSeconds: number,
    tx?: Queryable,
  ): Promise<QueueMessage<T> | undefined> {
    assertQueueName(queue);
    assertWholeSeconds('vtSeconds', vtSeconds, 0);
    const rows = await this.run<MessageRow>(
      queue,
      tx,
      `SELECT ${MESSAGE_COLUMNS} FROM pgmq.set_vt($1::text, $2::bigint, $3::integer)`,
      [queue, id, vtSeconds],
    );
    return rows[0] === undefined ? undefined : toMessage<T>(rows[0]);
  }

  /** Deletes every message of the queue (not its archive); returns how many. */
  async purge(queue: string): Promise<number> {
    assertQueueName(queue);
    const rows = await this.run<{ purged: number }>(
      queue,
      undefined,
      'SELECT pgmq.purge_queue($1::text) AS purged',
      [queue],
    );
    return rows[0]?.purged ?? 0;
  }

  /** Length, visible length, message ages and total sent of one queue. */
  async metrics(queue: string): Promise<QueueMetrics> {
    assertQueueName(queue);
    const rows = await this.run<MetricsRow>(
      queue,
      undefined,
      `SELECT ${METRICS_COLUMNS} FROM pgmq.metrics($1::text)`,
      [queue],
    );
    if (rows[0] === undefined) throw new Error(`pgmq.metrics on queue ${queue} returned no row`);
    return toMetrics(rows[0]);
  }

  /** {@link metrics} of every queue. */
  async metricsAll(): Promise<QueueMetrics[]> {
    const { rows } = await this.db.query<MetricsRow>(`SELECT ${METRICS_COLUMNS} FROM pgmq.metrics_all()`);
    return rows.map(toMetrics).sort((a, b) => a.queueName.localeCompare(b.queueName));
  }

  /** Every queue, by name. */
  async listQueues(): Promise<QueueInfo[]> {
    const { rows } = await this.db.query<{
      queue_name: string;
      is_partitioned: boolean;
      is_unlogged: boolean;
      created_at: Date;
    }>('SELECT queue_name, is_partitioned, is_unlogged, created_at FROM pgmq.list_queues()');
    return rows
      .map((r) => ({
        queueName: r.queue_name,
        isPartitioned: r.is_partitioned,
        isUnlogged: r.is_unlogged,
        createdAt: r.created_at,
      }))
      .sort((a, b) => a.queueName.localeCompare(b.queueName));
  }

  private async finish(
    fn: 'delete' | 'archive',
    queue: string,
    idOrIds: number | readonly number[],
    tx: Queryable | undefined,
  ): Promise<boolean | number[]> {
    assertQueueName(queue);
    if (typeof idOrIds === 'number') {
      const rows = await this.run<{ done: boolean }>(
        queue,
        tx,
        `SELECT pgmq.${fn}($1::text, $2::bigint) AS done`,
        [queue, idOrIds],
      );
      return rows[0]?.done === true;
    }
    if (idOrIds.length === 0) return [];
    const rows = await this.run<{ msg_id: number }>(
      queue,
      tx,
      `SELECT msg_id FROM pgmq.${fn}($1::text, $2::bigint[]) AS msg_id`,
      [queue, idOrIds],
    );
    return rows.map((r) => r.msg_id);
  }

  /** Runs one statement on `tx` or the pool; a missing queue table becomes QUEUE_NOT_FOUND. */
  private async run<R>(
    queue: string,
    tx: Queryable | undefined,
    sql: string,
    params: readonly unknown[],
  ): Promise<R[]> {
    try {
      return (await (tx ?? this.db).query<R>(sql, params)).rows;
    } catch (error) {
      if (errorCode(error) === UNDEFINED_TABLE) {
        throw new TaskerError('QUEUE_NOT_FOUND', `queue ${JSON.stringify(queue)} does not exist`, {
          cause: error,
        });
      }
      throw error;
    }
  }
}
