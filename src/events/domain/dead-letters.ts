import type { Database, Queryable } from '../../db/database.js';
import { deadLetterQueue } from '../../engine/queues.js';
import { TaskerError } from '../../errors.js';
import { assertQueueName } from '../../messaging/queue-names.js';
import type { PgmqClient, QueueMessage } from '../../messaging/pgmq-client.js';
import { CLAIMED_HEADER } from './event-router.js';
import type { DomainEvent } from './envelope.js';
import { compilePattern } from './patterns.js';

/** A dead letter as stored in `<ns>_domain_events_dlq` and printed by `tasker events dlq list --json`. */
export interface DeadLetter {
  msg_id: number;
  event: DomainEvent;
  subscriber: string;
  attempts: number;
  last_error: string;
  dead_at: string;
}

/** The message body of a dead letter (everything but its msg_id). */
export type DeadLetterBody = Omit<DeadLetter, 'msg_id'>;

/** Which dead letters a command acts on: ids, an event name pattern, or all. */
export type DeadLetterFilter = { ids: readonly number[] } | { pattern: string } | { all: true };

/**
 * Moves a message that failed too often from a subscriber's queue to the namespace's
 * dead-letter queue, with its last error, attempt count and subscriber, in one transaction.
 */
export async function deadLetter(
  tx: Queryable,
  queue: PgmqClient,
  namespace: string,
  subscriberQueue: string,
  message: QueueMessage<DomainEvent>,
  subscriber: string,
  lastError: string,
): Promise<void> {
  const body: DeadLetterBody = {
    event: message.message,
    subscriber,
    attempts: message.readCount,
    last_error: lastError,
    dead_at: new Date().toISOString(),
  };
  await queue.send(deadLetterQueue(namespace), body, { headers: message.headers ?? {}, tx });
  await queue.archive(subscriberQueue, message.msgId, tx);
}

/** `pgmq.q_<dlq>`: dead letters are read in place, without taking them off the queue. */
function dlqTable(namespace: string): string {
  const name = deadLetterQueue(namespace);
  assertQueueName(name);
  return `pgmq."q_${name}"`;
}

/** Dead letters of a namespace matching the filter, oldest first. */
export async function listDeadLetters(
  db: Queryable,
  namespace: string,
  filter: DeadLetterFilter = { all: true },
  options: { forUpdate?: boolean } = {},
): Promise<DeadLetter[]> {
  const byIds = 'ids' in filter;
  const { rows } = await db.query<{ msg_id: number; message: DeadLetterBody }>(
    `SELECT msg_id, message FROM ${dlqTable(namespace)}
      ${byIds ? 'WHERE msg_id = ANY($1)' : ''} ORDER BY msg_id ${options.forUpdate ? 'FOR UPDATE' : ''}`,
    byIds ? [filter.ids] : [],
  );
  const matches = 'pattern' in filter ? compilePattern(filter.pattern) : () => true;
  const found = rows
    .map((row) => ({ msg_id: row.msg_id, ...row.message }))
    .filter((dl) => matches(dl.event.name));
  if (byIds) {
    const missing = filter.ids.filter((id) => !found.some((dl) => dl.msg_id === id));
    if (missing.length > 0) {
      throw new TaskerError('USAGE', `no dead letter ${missing.join(', ')} in ${deadLetterQueue(namespace)}`);
    }
  }
  return found;
}

/**
 * Puts dead letters back on their subscriber's queue with the attempt count reset (a new
 * message), records each replay, and removes them from the dead-letter queue (archived).
 */
export async function replayDeadLetters(
  db: Database,
  queue: PgmqClient,
  namespace: string,
  filter: DeadLetterFilter,
): Promise<DeadLetter[]> {
  return db.transaction(async (tx) => {
    const letters = await listDeadLetters(tx, namespace, filter, { forUpdate: true });
    // The original headers carry the declared delivery mode (and trace context): keep them,
    // or an acknowledged event would come back as a durable one, without its acknowledgement.
    const { rows: stored } = await tx.query<{ msg_id: number; headers: Record<string, unknown> | null }>(
      `SELECT msg_id, headers FROM ${dlqTable(namespace)} WHERE msg_id = ANY($1)`,
      [letters.map((letter) => letter.msg_id)],
    );
    // Not the claim mark of the failed copy: the replay is a new message, read from attempt 1.
    const headersOf = new Map(
      stored.map((row) => {
        const { [CLAIMED_HEADER]: _claimed, ...kept } = row.headers ?? {};
        return [row.msg_id, kept];
      }),
    );
    for (const letter of letters) {
      const { rows } = await tx.query<{ queue_name: string }>(
        'SELECT queue_name FROM tasker.event_subscriptions WHERE namespace = $1 AND subscriber_id = $2',
        [namespace, letter.subscriber],
      );
      const target = rows[0]?.queue_name;
      if (!target) {
        throw new TaskerError(
          'USAGE',
          `dead letter ${letter.msg_id}: subscriber ${JSON.stringify(letter.subscriber)} is no longer registered`,
        );
      }
      const requeued = await queue.send(target, letter.event, {
        headers: {
          ...headersOf.get(letter.msg_id),
          tasker_subscriber: letter.subscriber,
          tasker_replayed_from: letter.msg_id,
        },
        tx,
      });
      await tx.query(
        `INSERT INTO tasker.dead_letter_replays (namespace, dlq_msg_id, event_id, subscriber_id, requeued_msg_id)
         VALUES ($1, $2, $3, $4, $5)`,
        [namespace, letter.msg_id, letter.event.id, letter.subscriber, requeued],
      );
    }
    if (letters.length > 0) {
      await queue.archive(
        deadLetterQueue(namespace),
        letters.map((letter) => letter.msg_id),
        tx,
      );
    }
    return letters;
  });
}

/** Deletes dead letters for good. */
export async function purgeDeadLetters(
  db: Database,
  queue: PgmqClient,
  namespace: string,
  filter: DeadLetterFilter,
): Promise<number> {
  return db.transaction(async (tx) => {
    const letters = await listDeadLetters(tx, namespace, filter, { forUpdate: true });
    if (letters.length === 0) return 0;
    const deleted = await queue.delete(
      deadLetterQueue(namespace),
      letters.map((letter) => letter.msg_id),
      tx,
    );
    return Array.isArray(deleted) ? deleted.length : letters.length;
  });
}

/** Deletes dead letters older than the retention (`events.durable.dlq_retention_days`). */
export async function purgeExpiredDeadLetters(
  db: Database,
  namespace: string,
  retentionDays: number,
): Promise<number> {
  const result = await db.query(
    `DELETE FROM ${dlqTable(namespace)} WHERE enqueued_at < now() - make_interval(days => $1)`,
    [retentionDays],
  );
  return result.rowCount;
}
