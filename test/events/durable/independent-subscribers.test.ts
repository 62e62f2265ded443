/**
 * Each subscriber's delivery is its own, in process on both databases: one subscriber failing
 * every event (all of them dead-lettered) does not hold back another subscribed to the same
 * events, which gets each exactly once; and an acknowledged event persisted twice (same id) is
 * handled once per subscriber, while a durable one is delivered twice.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureNamespaceQueues } from '../../../src/engine/namespace-queues.js';
import { deadLetterQueue } from '../../../src/engine/queues.js';
import { listDeadLetters } from '../../../src/events/domain/dead-letters.js';
import { registerDurableSubscriptions } from '../../../src/events/domain/durable-subscriptions.js';
import type { EventRuntime } from '../../../src/events/domain/event-runtime.js';
import { EFFECTS_TABLE_SQL } from '../../fixtures/durable/subscribers.js';
import {
  createTestDatabase,
  DATABASE_KINDS,
  keepDatabaseOnFailure,
  type TestDatabase,
} from '../../helpers/databases.js';
import {
  drained,
  effectsOf,
  effectSummary,
  eventually,
  FAST_DELIVERY,
  makeEvents,
  makeScratch,
  publish,
  queueCounts,
  type Scratch,
} from './support/harness.js';
import { startFixtureRuntime } from './support/in-process.js';

const NS = 'durable_indep';
const EACH = 40;

describe.each(DATABASE_KINDS)('independent subscribers on %s', { timeout: 180_000 }, (kind) => {
  let testDb: TestDatabase | undefined;
  let runtime: EventRuntime | undefined;
  let scratch: Scratch | undefined;

  beforeAll(async () => {
    testDb = await createTestDatabase(kind);
    await testDb.db.exec(EFFECTS_TABLE_SQL);
    await ensureNamespaceQueues(testDb.db, NS);
    // A generous visibility timeout: no redelivery unless a handler fails.
    scratch = makeScratch({ ...FAST_DELIVERY, visibility_timeout: 30 });
    runtime = await startFixtureRuntime(testDb.db, NS, scratch.configRoot, { fixed: false });
  }, 60_000);

  beforeEach(async () => {
    keepDatabaseOnFailure();
    await testDb!.db.exec('TRUNCATE durable_effects');
  });

  afterEach(async () => {
    await eventually('delivery to settle', async () => ((await drained(testDb!.db, NS)) ? true : undefined));
  });

  afterAll(async () => {
    await runtime?.stop();
    await testDb?.dispose();
    scratch?.cleanup();
  });

  it('a failing subscriber dead-letters every event; the other gets each once', async () => {
    const db = testDb!.db;
    const acknowledged = makeEvents(NS, EACH, { fail: ['mailer'] }, 0);
    const durable = makeEvents(NS, EACH, { fail: ['mailer'] }, EACH);
    await publish(db, NS, acknowledged, 'acknowledged', 10);
    await publish(db, NS, durable, 'durable', 10);
    await eventually('every mailer copy to be dead-lettered', async () =>
      (await queueCounts(db, deadLetterQueue(NS))).live === 2 * EACH && (await drained(db, NS))
        ? true
        : undefined,
    );
    expect(await effectSummary(db)).toEqual({
      ledger: { subscriber: 'ledger', rows: 2 * EACH, events: 2 * EACH },
    });
    const letters = await listDeadLetters(db, NS);
    expect(new Set(letters.map((letter) => letter.subscriber))).toEqual(new Set(['mailer']));
    expect(new Set(letters.map((letter) => letter.event.id))).toEqual(
      new Set([...acknowledged, ...durable].map((event) => event.id)),
    );
    expect(new Set(letters.map((letter) => letter.attempts))).toEqual(
      new Set([FAST_DELIVERY.max_delivery_attempts]),
    );
  });

  it('routes to a subscription registered by another process after the router started', async () => {
    const db = testDb!.db;
    const [before] = makeEvents(NS, 1, {}, 200);
    await publish(db, NS, [before!], 'durable');
    await eventually('the first event', async () => ((await drained(db, NS)) ? true : undefined));
    // Registered elsewhere, after this process's router read the subscriptions; nobody consumes it.
    const [auditor] = await registerDurableSubscriptions(db, NS, [
      { id: 'auditor', pattern: 'order.placed' },
    ]);
    const [after] = makeEvents(NS, 1, {}, 201);
    await publish(db, NS, [after!], 'durable');
    await eventually('the second event to be routed', async () =>
      (await queueCounts(db, `${NS}_domain_events`)).live === 0 &&
      (await effectsOf(db, after!.id)).length === 2
        ? true
        : undefined,
    );
    const { rows } = await db.query<{ id: string }>(
      `SELECT message->>'id' AS id FROM pgmq."q_${auditor!.queue_name}"`,
    );
    expect(rows).toEqual([{ id: after!.id }]);
    await db.query('DELETE FROM tasker.event_subscriptions WHERE subscriber_id = $1', ['auditor']);
  });

  it('an acknowledged event persisted twice is handled once per subscriber; a durable one twice', async () => {
    const db = testDb!.db;
    const [acknowledged] = makeEvents(NS, 1, {}, 100);
    const [durable] = makeEvents(NS, 1, {}, 101);
    // Two separate transactions, as a publisher retrying after a lost commit acknowledgement would.
    for (let i = 0; i < 2; i++) {
      await publish(db, NS, [acknowledged!], 'acknowledged');
      await publish(db, NS, [durable!], 'durable');
    }
    await eventually('both copies to be delivered', async () => ((await drained(db, NS)) ? true : undefined));
    const subscribersOf = async (id: string) => (await effectsOf(db, id)).map((row) => row.subscriber);
    expect(await subscribersOf(acknowledged!.id)).toEqual(['ledger', 'mailer']);
    expect(await subscribersOf(durable!.id)).toEqual(['ledger', 'ledger', 'mailer', 'mailer']);
  });
});
