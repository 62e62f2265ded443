import type { Database } from '../db/database.js';
import { TaskerError } from '../errors.js';
import { logger } from '../logging/logger.js';
import { notificationChannel, type PgmqClient, type QueueMessage } from './pgmq-client.js';

/** Options of {@link startQueueConsumer}. */
export interface QueueConsumerOptions<T> {
  db: Database;
  client: PgmqClient;
  queue: string;
  /** Messages per read (and per `handle` call). */
  batchSize: number;
  /**
   * Messages in hand at once (default `batchSize`: one batch at a time). When larger, the
   * consumer reads the next batch while earlier ones are still being handled, so that reading
   * and handling overlap; it reads when there is room for a whole batch.
   */
  maxInFlight?: number;
  /** How long read messages stay hidden; `handle` must delete or archive them before that. */
  visibilityTimeoutSeconds: number;
  /** Slow fallback: read this often even without a notification (e.g. 1000 ms). */
  pollIntervalMs: number;
  /**
   * Processes one batch. It owns the messages: delete or archive them, or they become visible
   * again after the visibility timeout.
   */
  handle: (messages: QueueMessage<T>[]) => Promise<void>;
  /**
   * Reads a batch instead of `pgmq.read`: for consumers that claim what they read in the same
   * statement (workers) or read through a statement of their own (the orchestrator's queues). Must read at most `qty` messages of `queue`, hidden for the visibility timeout.
   */
  read?: (qty: number) => Promise<QueueMessage<T>[]>;
  /** Called with every error of `read` or `handle`; default: a warning in the log. */
  onError?: (error: unknown) => void;
  /** Pause after an error before reading again; default 500 ms. */
  retryDelayMs?: number;
}

/** A running consumer. */
export interface QueueConsumer {
  /** Stops reading and resolves once the `handle` calls in progress, if any, have finished. */
  stop(): Promise<void>;
  /**
   * Reads again now, as a notification would: for a sender in the same process, which knows
   * without the NOTIFY round trip through the server that messages were committed.
   */
  wake(): void;
}

const DEFAULT_RETRY_DELAY_MS = 500;

/**
 * Consumes a queue: LISTENs on its channel, drains it (reads until a read returns fewer than it
 * asked for, handing each batch to `handle` and reading on while there is room for another batch
 * within `maxInFlight`), then waits for a notification or `pollIntervalMs`, whichever comes first.
 * Notifications arriving while draining coalesce into at most one more drain. After the listening
 * connection was re-established, it reads at once (notifications may have been lost meanwhile).
 * Errors go to `onError`; after a failed read the loop carries on after `retryDelayMs`, so it
 * outlives a database restart. Nothing ever waits inside the database.
 */
export async function startQueueConsumer<T>(options: QueueConsumerOptions<T>): Promise<QueueConsumer> {
  const { db, client, queue, batchSize, visibilityTimeoutSeconds, pollIntervalMs, handle } = options;
  const channel = notificationChannel(queue);
  const onError =
    options.onError ??
    ((error: unknown) => logger.warn({ err: error, queue }, 'queue consumer: read or handle failed'));
  const retryDelayMs = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  const maxInFlight = options.maxInFlight ?? batchSize;
  assertOptions(queue, { batchSize, maxInFlight, visibilityTimeoutSeconds, pollIntervalMs, retryDelayMs });

  let stopped = false;
  // Set by every notification; cleared just before each read, which covers it.
  let pending = true;
  // Ends the pause in progress; notifications may only end the idle pause, not the retry pause.
  let interrupt: (() => void) | undefined;
  let idle = false;

  const wake = (): void => {
    pending = true;
    if (idle) interrupt?.();
  };

  /** Resolves after `ms`, or earlier on stop (and on a notification when `wakeable`). */
  const pause = (ms: number, wakeable: boolean): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        interrupt = undefined;
        idle = false;
        resolve();
      }
      interrupt = done;
      idle = wakeable;
    });

  // Batches being handled, and how many messages they hold.
  const inFlight = new Set<Promise<void>>();
  let messagesInFlight = 0;

  /** Handles a batch in the background; its errors go to onError (its messages come back after their visibility timeout). */
  const dispatch = (messages: QueueMessage<T>[]): void => {
    messagesInFlight += messages.length;
    const handling = handle(messages)
      .catch((error: unknown) => safely(onError, error))
      .finally(() => {
        messagesInFlight -= messages.length;
        inFlight.delete(handling);
      });
    inFlight.add(handling);
  };

  const drain = async (): Promise<void> => {
    while (!stopped) {
      // Whole batches only, unless nothing is in hand: many small reads would cost more.
      if (inFlight.size > 0 && maxInFlight - messagesInFlight < batchSize) {
        await Promise.race(inFlight);
        continue;
      }
      pending = false;
      const qty = Math.min(batchSize, maxInFlight - messagesInFlight);
      const messages = options.read
        ? await options.read(qty)
        : await client.read<T>(queue, { vtSeconds: visibilityTimeoutSeconds, qty });
      if (messages.length > 0) dispatch(messages);
      if (messages.length < qty || stopped) return;
    }
  };

  const run = async (): Promise<void> => {
    while (!stopped) {
      try {
        await drain();
      } catch (error) {
        safely(onError, error);
        if (!stopped) await pause(retryDelayMs, false);
        continue;
      }
      if (!pending && !stopped) await pause(pollIntervalMs, true);
    }
  };

  const unlisten = await db.listen(channel, wake);
  const offReconnect = db.onReconnect(wake);
  const loop = run();

  return {
    wake,
    async stop(): Promise<void> {
      if (!stopped) {
        stopped = true;
        offReconnect();
        interrupt?.();
        await unlisten().catch((error: unknown) => safely(onError, error));
      }
      await loop;
      await Promise.all(inFlight);
    },
  };
}

/** Refuses options that would make the loop fail on every read or spin (a zero interval). */
function assertOptions(
  queue: string,
  o: {
    batchSize: number;
    maxInFlight: number;
    visibilityTimeoutSeconds: number;
    pollIntervalMs: number;
    retryDelayMs: number;
  },
): void {
  const problems = [
    Number.isInteger(o.batchSize) && o.batchSize >= 1 ? undefined : `batchSize must be a whole number ≥ 1`,
    Number.isInteger(o.maxInFlight) && o.maxInFlight >= o.batchSize
      ? undefined
      : `maxInFlight must be a whole number ≥ batchSize`,
    Number.isInteger(o.visibilityTimeoutSeconds) && o.visibilityTimeoutSeconds >= 0
      ? undefined
      : `visibilityTimeoutSeconds must be a whole number ≥ 0`,
    Number.isFinite(o.pollIntervalMs) && o.pollIntervalMs > 0 ? undefined : `pollIntervalMs must be positive`,
    Number.isFinite(o.retryDelayMs) && o.retryDelayMs > 0 ? undefined : `retryDelayMs must be positive`,
  ].filter((p) => p !== undefined);
  if (problems.length > 0)
    throw new TaskerError('USAGE', `queue consumer of ${queue}: ${problems.join('; ')}`);
}

/** An error handler that throws must not kill the loop. */
function safely(onError: (error: unknown) => void, error: unknown): void {
  try {
    onError(error);
  } catch (nested) {
    logger.warn({ err: nested }, 'queue consumer: onError threw');
  }
}
