import { createHash } from 'node:crypto';
import type { Database, Queryable } from '../../db/database.js';
import { errorCode, TaskerError } from '../../errors.js';
import { ensureQueueStatements } from '../../engine/queue-statements.js';
import { PgmqClient } from '../../messaging/pgmq-client.js';

/** A durable subscription as registered in the database. */
export interface DurableSubscriptionRecord {
  namespace: string;
  subscriber_id: string;
  pattern: string;
  queue_name: string;
}

/**
 * The queue holding one subscriber's copies of a namespace's events. Subscriber ids are free
 * text, so the name uses a hash of it; it fits PGMQ's 47 characters for any namespace of 29.
 */
export function subscriberQueueName(namespace: string, subscriberId: string): string {
  const hash = createHash('sha256').update(subscriberId).digest('hex').slice(0, 12);
  return `${namespace}_de_${hash}`;
}

/**
 * Registers (or refreshes) durable subscriptions and creates their queues. From the commit on,
 * every event published in the namespace (or routed from its queue) that matches a pattern gets
 * a copy in its queue.
 */
export async function registerDurableSubscriptions(
  db: Database,
  namespace: string,
  subscriptions: ReadonlyArray<{ id: string; pattern: string }>,
): Promise<DurableSubscriptionRecord[]> {
  const queue = new PgmqClient(db);
  const records = subscriptions.map((subscription) => ({
    namespace,
    subscriber_id: subscription.id,
    pattern: subscription.pattern,
    queue_name: subscriberQueueName(namespace, subscription.id),
  }));
  for (const record of records) {
    await queue.createQueue(record.queue_name);
    // The router copies events into it through them.
    await ensureQueueStatements(db, record.queue_name);
  }
  for (const record of records) {
    // Not `ON CONFLICT (namespace, subscriber_id) DO UPDATE`: two processes registering the same
    // new subscription at once would then fail on the other unique key (queue_name). Without a
    // target, DO NOTHING covers every unique key; the refresh follows.
    await db.query(
      `INSERT INTO tasker.event_subscriptions (namespace, subscriber_id, pattern, queue_name)
       VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [record.namespace, record.subscriber_id, record.pattern, record.queue_name],
    );
    const refreshed = await db.query(
      `UPDATE tasker.event_subscriptions SET pattern = $3, last_seen_at = now()
        WHERE namespace = $1 AND subscriber_id = $2 AND queue_name = $4`,
      [record.namespace, record.subscriber_id, record.pattern, record.queue_name],
    );
    if (refreshed.rowCount === 0) {
      throw new TaskerError(
        'EVENT_INVALID',
        `durable subscriber ${JSON.stringify(record.subscriber_id)} in ${namespace}: its queue name ${record.queue_name} is taken by another subscriber id; choose another id`,
      );
    }
  }
  return records;
}

/** A durable subscription with the regular expression its pattern matches names with. */
export interface RoutableSubscription extends DurableSubscriptionRecord {
  /** tasker.pattern_regex of the pattern, matched against `'.' || name`. */
  name_regex: string;
}

/** The durable subscriptions of a namespace, read in the caller's transaction. */
export async function loadDurableSubscriptions(
  tx: Queryable,
  namespace: string,
): Promise<RoutableSubscription[]> {
  const { rows } = await tx.query<RoutableSubscription>(
    `SELECT namespace, subscriber_id, pattern, queue_name, name_regex FROM tasker.event_subscriptions
      WHERE namespace = $1 ORDER BY subscriber_id`,
    [namespace],
  );
  return rows;
}

/** A registered durable subscription with what waits in its queue. */
export interface DurableSubscriptionStatus extends DurableSubscriptionRecord {
  registered_at: Date;
  last_seen_at: Date;
  /** Copies waiting in its queue (visible or not). */
  queue_length: number;
}

/** Every durable subscription of a namespace, for `tasker events subscriptions list`. */
export async function listDurableSubscriptions(
  db: Database,
  namespace: string,
): Promise<DurableSubscriptionStatus[]> {
  const { rows } = await db.query<Omit<DurableSubscriptionStatus, 'queue_length'>>(
    `SELECT namespace, subscriber_id, pattern, queue_name, registered_at, last_seen_at
       FROM tasker.event_subscriptions WHERE namespace = $1 ORDER BY subscriber_id`,
    [namespace],
  );
  const queue = new PgmqClient(db);
  const lengths = new Map(
    (await queue.metricsAll()).map((metrics) => [metrics.queueName, metrics.queueLength]),
  );
  return rows.map((row) => ({ ...row, queue_length: lengths.get(row.queue_name) ?? 0 }));
}

/**
 * Retires a durable subscription: from the commit on, events are no longer copied to it, and
 * its queue, with the copies still waiting there, is dropped. Stop the processes that consume
 * it first; one still running registers it again when it restarts.
 */
export async function removeDurableSubscription(
  db: Database,
  namespace: string,
  subscriberId: string,
): Promise<string> {
  return db.transaction((tx) => retireDurableSubscription(tx, namespace, subscriberId));
}

/** Longest a retirement waits for the namespace's publishing transactions. */
const RETIRE_LOCK_TIMEOUT_MS = 5_000;
/** SQLSTATE of a lock wait cut short by `lock_timeout`. */
const LOCK_NOT_AVAILABLE = '55P03';

/** {@link removeDurableSubscription} in the caller's transaction; resolves to the dropped queue. */
export async function retireDurableSubscription(
  tx: Queryable,
  namespace: string,
  subscriberId: string,
): Promise<string> {
  // Waits for the transactions publishing in the namespace, whose copies may be on their way
  // into the queue dropped below; later ones wait for this one, and then no longer see it. The
  // wait is bounded: publishers queue behind it, so a long transaction that publishes must not
  // hold every worker of the namespace up (the retirement fails instead, and can be retried).
  await tx.query("SELECT set_config('lock_timeout', $1, true)", [`${RETIRE_LOCK_TIMEOUT_MS}ms`]);
  try {
    await tx.query('SELECT pg_advisory_xact_lock(tasker.publication_lock_key($1))', [namespace]);
  } catch (error) {
    if (errorCode(error) !== LOCK_NOT_AVAILABLE) throw error;
    throw new TaskerError(
      'TIMEOUT',
      `cannot retire ${JSON.stringify(subscriberId)} in ${namespace}: a transaction publishing events in it has been open for more than ${RETIRE_LOCK_TIMEOUT_MS / 1000} s; try again`,
      { cause: error },
    );
  }
  const { rows } = await tx.query<{ queue_name: string }>(
    'DELETE FROM tasker.event_subscriptions WHERE namespace = $1 AND subscriber_id = $2 RETURNING queue_name',
    [namespace, subscriberId],
  );
  const queueName = rows[0]?.queue_name;
  if (queueName === undefined) {
    throw new TaskerError(
      'USAGE',
      `no durable subscription ${JSON.stringify(subscriberId)} in namespace ${namespace}`,
    );
  }
  await tx.query('SELECT pgmq.drop_queue($1), tasker.drop_queue_statements($1)', [queueName]);
  return queueName;
}
