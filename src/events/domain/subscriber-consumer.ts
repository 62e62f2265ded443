import type { Database, Queryable } from '../../db/database.js';
import { archiveHandled, readQueue } from '../../engine/queue-statements.js';
import { logger } from '../../logging/logger.js';
import type { PgmqClient, QueueMessage } from '../../messaging/pgmq-client.js';
import { startQueueConsumer, type QueueConsumer } from '../../messaging/queue-consumer.js';
import type { DeliveryMode } from '../../templates/types.js';
import { deadLetter } from './dead-letters.js';
import type { DeliveryContext } from './delivery-context.js';
import type { DomainEvent } from './envelope.js';
import type { DomainEventMetrics } from './metrics.js';
import { CLAIMED_HEADER, type LocalClaim } from './event-router.js';
import { DELIVERY_HEADER } from './outbox.js';

/** A subscriber's handler as durable delivery calls it. */
export type DurableHandler = (event: DomainEvent, ctx: DeliveryContext) => unknown;

/** The `[events.durable]` settings a subscriber consumer follows. */
export interface DurableSettings {
  batchSize: number;
  visibilityTimeoutSeconds: number;
  pollIntervalMs: number;
  maxDeliveryAttempts: number;
  dlqEnabled: boolean;
  retryBackoffBaseMs: number;
  retryBackoffMaxMs: number;
}

/** Options of {@link startSubscriberConsumer}. */
export interface SubscriberConsumerOptions {
  db: Database;
  queue: PgmqClient;
  namespace: string;
  subscriberId: string;
  queueName: string;
  handler: DurableHandler;
  settings: DurableSettings;
  metrics: DomainEventMetrics;
  /** Counts events moved to the dead-letter queue (`tasker.domain_events.dlq.total`). */
  onDeadLetter?: (event: DomainEvent) => void;
}

/** Claimed batches a subscriber consumer handles at once (see `claim`). */
const MAX_CLAIMS = 2;

/** A subscriber's consumer: its queue's reader, and the claim the router of its process may hand copies to. */
export interface SubscriberConsumer extends QueueConsumer {
  /** Claims the next copies routed to this queue in this process; undefined while it holds `MAX_CLAIMS`. */
  claim(): LocalClaim | undefined;
}

/** Seconds before the next delivery after `attempt` failed: exponential, capped. */
export function redeliveryDelaySeconds(settings: DurableSettings, attempt: number): number {
  const ms = Math.min(
    settings.retryBackoffMaxMs,
    settings.retryBackoffBaseMs * 2 ** Math.max(0, attempt - 1),
  );
  return Math.max(0, Math.ceil(ms / 1000));
}

/**
 * A message's delivery attempt: its read count, plus one for a copy a local consumer claimed
 * at routing (inserted invisible and handed over without a read).
 */
function withAttempt(message: QueueMessage<DomainEvent>): QueueMessage<DomainEvent> {
  return message.headers?.[CLAIMED_HEADER] === true
    ? { ...message, readCount: message.readCount + 1 }
    : message;
}

function deliveryOf(message: QueueMessage<DomainEvent>): DeliveryMode {
  return message.headers?.[DELIVERY_HEADER] === 'acknowledged' ? 'acknowledged' : 'durable';
}

function reason(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function elapsedSeconds(event: DomainEvent): number {
  return Math.max(0, (Date.now() - Date.parse(event.metadata.fired_at)) / 1000);
}

/**
 * Consumes one subscriber's queue. Durable events: the handler runs, and the copy is archived
 * once it succeeds (at least once). Acknowledged events: the acknowledgement row, the
 * handler's writes through `ctx.tx` and the archive commit in one transaction, and an event
 * already acknowledged is skipped (exactly once). A failure comes back after a growing delay;
 * after `maxDeliveryAttempts` the copy moves to the dead-letter queue.
 */
export async function startSubscriberConsumer(
  options: SubscriberConsumerOptions,
): Promise<SubscriberConsumer> {
  const { db, queue, settings, subscriberId, queueName, metrics } = options;

  /**
   * Runs the subscriber's handler for as long as its copy stays invisible: past that, another
   * consumer may take the copy, so a handler still running has failed this attempt (and a hung
   * one cannot hold its consumer, or its shutdown, forever).
   */
  async function handler(event: DomainEvent, ctx: DeliveryContext): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const limitSeconds = settings.visibilityTimeoutSeconds;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `subscriber ${subscriberId} did not finish event ${event.id} within ${limitSeconds}s (events.durable.visibility_timeout)`,
            ),
          ),
        limitSeconds * 1000,
      );
    });
    try {
      await Promise.race([Promise.resolve().then(() => options.handler(event, ctx)), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  const succeeded = (message: QueueMessage<DomainEvent>, mode: DeliveryMode): void =>
    metrics.delivered(message.message, mode, elapsedSeconds(message.message));

  async function failed(message: QueueMessage<DomainEvent>, error: unknown): Promise<void> {
    const mode = deliveryOf(message);
    metrics.failed(message.message, mode);
    logger.warn(
      { err: reason(error), subscriber: subscriberId, event: message.message.id, attempt: message.readCount },
      'domain event subscriber failed',
    );
    if (message.readCount < settings.maxDeliveryAttempts) {
      await queue.setVt(queueName, message.msgId, redeliveryDelaySeconds(settings, message.readCount));
      return;
    }
    if (settings.dlqEnabled) {
      await db.transaction((tx) =>
        deadLetter(tx, queue, options.namespace, queueName, message, subscriberId, reason(error)),
      );
      options.onDeadLetter?.(message.message);
    } else {
      logger.error(
        { subscriber: subscriberId, event: message.message.id },
        'dropping event after its last attempt',
      );
      await queue.archive(queueName, message.msgId);
    }
  }

  const context = (message: QueueMessage<DomainEvent>, tx?: DeliveryContext['tx']): DeliveryContext => {
    const { traceparent } = message.headers ?? {};
    return {
      subscriberId,
      delivery: deliveryOf(message),
      attempt: message.readCount,
      ...(typeof traceparent === 'string' ? { traceparent } : {}),
      ...(tx ? { tx } : {}),
    };
  };

  async function deliverDurable(messages: readonly QueueMessage<DomainEvent>[]): Promise<void> {
    const outcomes = await Promise.all(
      messages.map(async (message) => {
        try {
          await handler(message.message, context(message));
          succeeded(message, 'durable');
          return true;
        } catch (error) {
          await failed(message, error);
          return false;
        }
      }),
    );
    const done = messages.filter((_, i) => outcomes[i]).map((message) => message.msgId);
    if (done.length > 0) await archiveHandled(db, queueName, done);
  }

  /**
   * In the delivery's transaction, one statement: records the acknowledgements and archives the
   * copies (undone together with the handlers' writes if anything fails before the commit).
   * Resolves to the event ids acknowledged now, not before.
   */
  async function acknowledge(
    tx: Queryable,
    messages: readonly QueueMessage<DomainEvent>[],
  ): Promise<Set<string>> {
    const { rows } = await tx.query<{ fresh: string[] | null }>(
      `WITH acked AS (
         INSERT INTO tasker.event_acknowledgements (event_id, subscriber_id, namespace)
         SELECT id, $2, $3 FROM unnest($1::uuid[]) AS id
         ON CONFLICT DO NOTHING RETURNING event_id)
       SELECT tasker.archive_queue($4, $5::bigint[]) AS archived,
              (SELECT array_agg(event_id::text) FROM acked) AS fresh`,
      [
        messages.map((message) => message.message.id),
        subscriberId,
        options.namespace,
        queueName,
        messages.map((message) => message.msgId),
      ],
    );
    return new Set(rows[0]?.fresh ?? []);
  }

  /** One acknowledged event in its own transaction; a failure rolls its effects back. */
  async function deliverAcknowledgedOne(message: QueueMessage<DomainEvent>): Promise<void> {
    try {
      await db.transaction(async (tx) => {
        const fresh = await acknowledge(tx, [message]);
        if (fresh.has(message.message.id)) await handler(message.message, context(message, tx));
      });
      succeeded(message, 'acknowledged');
    } catch (error) {
      await failed(message, error);
    }
  }

  /**
   * A batch of acknowledged events in one transaction (the fast path). If any handler throws,
   * everything rolls back and each event is delivered on its own, so one failure cannot
   * affect the others' outcome.
   */
  async function deliverAcknowledged(messages: readonly QueueMessage<DomainEvent>[]): Promise<void> {
    if (messages.length === 1) return deliverAcknowledgedOne(messages[0]!);
    try {
      await db.transaction(async (tx) => {
        const fresh = await acknowledge(tx, messages);
        for (const message of messages) {
          // A copy delivered twice in one batch runs once: the first takes the id out.
          if (fresh.delete(message.message.id)) await handler(message.message, context(message, tx));
        }
      });
      for (const message of messages) succeeded(message, 'acknowledged');
    } catch {
      for (const message of messages) await deliverAcknowledgedOne(message);
    }
  }

  async function handle(read: QueueMessage<DomainEvent>[]): Promise<void> {
    const messages = read.map(withAttempt);
    const acknowledged = messages.filter((message) => deliveryOf(message) === 'acknowledged');
    const durable = messages.filter((message) => deliveryOf(message) !== 'acknowledged');
    if (durable.length > 0) await deliverDurable(durable);
    if (acknowledged.length > 0) await deliverAcknowledged(acknowledged);
  }

  // A bounded number of claimed batches at a time: while one waits for its commit the next can
  // run; a consumer busier than that lets the next copies go through its queue, where they are
  // read in larger batches.
  let claims = 0;
  let stopped = false;
  const handoffs = new Set<Promise<void>>();
  const claim = (): LocalClaim | undefined => {
    if (claims >= MAX_CLAIMS || stopped) return undefined;
    claims += 1;
    let open = true;
    const close = (): void => {
      if (open) claims -= 1;
      open = false;
    };
    return {
      visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds,
      deliver(messages) {
        const done = handle(messages)
          .catch((error: unknown) => logger.warn({ err: error, queue: queueName }, 'claimed delivery failed'))
          .finally(() => {
            close();
            handoffs.delete(done);
          });
        handoffs.add(done);
      },
      release: close,
    };
  };

  const consumer = await startQueueConsumer<DomainEvent>({
    db,
    client: queue,
    queue: queueName,
    batchSize: settings.batchSize,
    visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds,
    pollIntervalMs: settings.pollIntervalMs,
    read: (qty) => readQueue<DomainEvent>(db, queueName, settings.visibilityTimeoutSeconds, qty),
    handle,
  });
  return {
    claim,
    wake: () => consumer.wake(),
    async stop() {
      stopped = true;
      await consumer.stop();
      await Promise.all(handoffs);
    },
  };
}
