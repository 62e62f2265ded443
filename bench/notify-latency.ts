import type { Database } from '../src/db/database.js';
import type { PgmqClient } from '../src/messaging/pgmq-client.js';
import { startQueueConsumer } from '../src/messaging/queue-consumer.js';

/**
 * Ping-pong through `queue`: each message is sent once the previous one was received and
 * deleted by a NOTIFY-woken consumer (poll fallback 1 s, so only the notification wakes it in time), so
 * nothing queues. Returns the send → handler latency of each message, in milliseconds.
 */
export async function pingPongLatencies(
  db: Database,
  client: PgmqClient,
  queue: string,
  count: number,
): Promise<number[]> {
  const latencies: number[] = [];
  let received: (() => void) | undefined;
  const consumer = await startQueueConsumer<{ sentAt: number }>({
    db,
    client,
    queue,
    batchSize: 10,
    visibilityTimeoutSeconds: 30,
    pollIntervalMs: 1_000,
    handle: async (messages) => {
      const at = performance.now();
      for (const m of messages) latencies.push(at - m.message.sentAt);
      await client.delete(
        queue,
        messages.map((m) => m.msgId),
      );
      // Only now: the next send must not race this delete's commit (its own WAL flush).
      received?.();
    },
  });
  try {
    for (let i = 0; i < count; i++) {
      const handled = new Promise<void>((resolve) => (received = resolve));
      await client.send(queue, { sentAt: performance.now() });
      await handled;
    }
  } finally {
    await consumer.stop();
  }
  return latencies;
}
