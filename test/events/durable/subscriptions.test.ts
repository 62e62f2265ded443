/**
 * Durable subscriptions registered by several processes at once (real server: two pools stand
 * for two consumer processes starting together), and refreshed by a restarted process.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/db/database.js';
import { openPgDatabase } from '../../../src/db/pg-database.js';
import {
  loadDurableSubscriptions,
  registerDurableSubscriptions,
  subscriberQueueName,
} from '../../../src/events/domain/durable-subscriptions.js';
import { PgmqClient } from '../../../src/messaging/pgmq-client.js';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../../helpers/databases.js';

const NS = 'durable_subs';

describe('registering durable subscriptions concurrently (real server)', { timeout: 120_000 }, () => {
  let testDb: TestDatabase | undefined;
  let other: Database | undefined;

  beforeEach(() => keepDatabaseOnFailure());

  beforeAll(async () => {
    testDb = await createTestDatabase('postgres');
    other = await openPgDatabase({ connectionString: testDb.url!, poolSize: 2 });
  });

  afterAll(async () => {
    await other?.close();
    await testDb?.dispose();
  });

  it('two processes registering the same new subscriptions at once both succeed', async () => {
    for (let round = 0; round < 50; round++) {
      const subscriptions = [
        { id: `a${round}`, pattern: 'order.#' },
        { id: `b${round}`, pattern: 'order.placed' },
      ];
      // Queues first, so that both INSERTs of the registration race each other.
      for (const { id } of subscriptions)
        await new PgmqClient(testDb!.db).createQueue(subscriberQueueName(NS, id));
      const [first, second] = await Promise.all([
        registerDurableSubscriptions(testDb!.db, NS, subscriptions),
        registerDurableSubscriptions(other!, NS, subscriptions),
      ]);
      expect(second).toEqual(first);
    }
    const stored = await testDb!.db.transaction((tx) => loadDurableSubscriptions(tx, NS));
    expect(stored).toHaveLength(100);
    for (const row of stored) expect(row.queue_name).toBe(subscriberQueueName(NS, row.subscriber_id));
  });

  it('a restarted process refreshes its pattern', async () => {
    await registerDurableSubscriptions(testDb!.db, NS, [{ id: 'refresh', pattern: 'order.#' }]);
    await registerDurableSubscriptions(other!, NS, [{ id: 'refresh', pattern: 'order.placed' }]);
    const stored = await testDb!.db.transaction((tx) => loadDurableSubscriptions(tx, NS));
    expect(stored.find((row) => row.subscriber_id === 'refresh')?.pattern).toBe('order.placed');
  });
});
