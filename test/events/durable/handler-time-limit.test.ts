/**
 * A durable subscriber that never finishes is given up on once its copy's visibility timeout
 * passes: the attempt fails (here straight to the dead-letter queue), and stopping the consumer
 * does not wait for the hung handler.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ensureNamespaceQueues } from '../../../src/engine/namespace-queues.js';
import { listDeadLetters } from '../../../src/events/domain/dead-letters.js';
import { registerDurableSubscriptions } from '../../../src/events/domain/durable-subscriptions.js';
import { createDomainEvent } from '../../../src/events/domain/envelope.js';
import { NOOP_DOMAIN_EVENT_METRICS } from '../../../src/events/domain/metrics.js';
import { DELIVERY_HEADER } from '../../../src/events/domain/outbox.js';
import { startSubscriberConsumer } from '../../../src/events/domain/subscriber-consumer.js';
import { PgmqClient } from '../../../src/messaging/pgmq-client.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../../helpers/databases.js';
import { eventually } from './support/harness.js';

const NS = 'durable_hung';

describe.each(DATABASE_KINDS)('a hung durable subscriber on %s', { timeout: 60_000 }, (kind) => {
  let testDb: TestDatabase | undefined;

  afterEach(async () => {
    await testDb?.dispose();
  });

  it('fails the attempt after events.durable.visibility_timeout and dead-letters it', async () => {
    testDb = await createTestDatabase(kind);
    const { db } = testDb;
    const queue = new PgmqClient(db);
    await ensureNamespaceQueues(db, NS);
    const [subscription] = await registerDurableSubscriptions(db, NS, [{ id: 'hangs', pattern: '#' }]);
    const event = createDomainEvent(
      'order.placed',
      { order_id: 'o-1' },
      { taskUuid: '0', stepUuid: '0', stepName: 's', namespace: NS, correlationId: 'c', firedBy: 'test' },
    );
    await queue.send(subscription!.queue_name, event, { headers: { [DELIVERY_HEADER]: 'durable' } });
    let calls = 0;
    const consumer = await startSubscriberConsumer({
      db,
      queue,
      namespace: NS,
      subscriberId: 'hangs',
      queueName: subscription!.queue_name,
      handler: () => {
        calls += 1;
        return new Promise<never>(() => undefined);
      },
      settings: {
        batchSize: 10,
        visibilityTimeoutSeconds: 1,
        pollIntervalMs: 100,
        maxDeliveryAttempts: 1,
        dlqEnabled: true,
        retryBackoffBaseMs: 100,
        retryBackoffMaxMs: 100,
      },
      metrics: NOOP_DOMAIN_EVENT_METRICS,
    });
    try {
      const [letter] = await eventually('the dead letter', async () => {
        const letters = await listDeadLetters(db, NS);
        return letters.length > 0 ? letters : undefined;
      });
      expect(letter).toMatchObject({ subscriber: 'hangs', attempts: 1, event: { id: event.id } });
      expect(letter!.last_error).toContain('did not finish event');
      expect(letter!.last_error).toContain('within 1s (events.durable.visibility_timeout)');
      expect(calls).toBe(1);
    } finally {
      await consumer.stop();
    }
  });
});
