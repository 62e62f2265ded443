/**
 * Durable events are routed in the publishing transaction (tasker.publish__<namespace>, migration
 * 0012): a copy per matching subscription, the event recorded in the namespace queue's archive.
 * The namespace queue itself only holds events published while the namespace had no subscription.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureNamespaceQueues } from '../../../src/engine/namespace-queues.js';
import {
  registerDurableSubscriptions,
  removeDurableSubscription,
  retireDurableSubscription,
} from '../../../src/events/domain/durable-subscriptions.js';
import { persistEvents } from '../../../src/events/domain/outbox.js';
import {
  createTestDatabase,
  DATABASE_KINDS,
  itOnServer,
  type TestDatabase,
} from '../../helpers/databases.js';
import { waitForLockWait } from '../../engine/support/history.js';
import { makeEvents, queueCounts, subscriberQueues } from './support/harness.js';

describe.each(DATABASE_KINDS)('routing durable events as they are published on %s', (kind) => {
  let t: TestDatabase;

  beforeAll(async () => {
    t = await createTestDatabase(kind);
  });
  afterAll(() => t.dispose());

  /** The messages of a subscriber queue: their event names and subscriber headers. */
  async function copies(queue: string): Promise<Array<[string, unknown]>> {
    const { rows } = await t.db.query<{ name: string; subscriber: unknown }>(
      `SELECT message->>'name' AS name, headers->'tasker_subscriber' AS subscriber FROM pgmq."q_${queue}" ORDER BY msg_id`,
    );
    return rows.map((row) => [row.name, row.subscriber]);
  }

  it('copies each event to the matching subscriptions and records it, in the caller’s transaction', async () => {
    const ns = `pub_route_${kind}`;
    await ensureNamespaceQueues(t.db, ns);
    const [orders, placed] = await registerDurableSubscriptions(t.db, ns, [
      { id: 'all-orders', pattern: 'order.#' },
      { id: 'placed-only', pattern: 'order.placed' },
    ]);
    const [first, second] = makeEvents(ns, 2);
    const shipped = { ...second!, name: 'order.shipped' };

    // Rolled back: nothing anywhere.
    await t.db
      .transaction(async (tx) => {
        await persistEvents(tx, ns, [{ event: first!, delivery: 'durable' }]);
        throw new Error('the attempt failed');
      })
      .catch(() => undefined);
    expect(await queueCounts(t.db, `${ns}_domain_events`)).toEqual({ live: 0, archived: 0 });
    expect(await copies(orders!.queue_name)).toEqual([]);

    const ids = await t.db.transaction((tx) =>
      persistEvents(tx, ns, [
        { event: first!, delivery: 'durable' },
        { event: shipped, delivery: 'acknowledged' },
      ]),
    );
    expect(await copies(orders!.queue_name)).toEqual([
      ['order.placed', 'all-orders'],
      ['order.shipped', 'all-orders'],
    ]);
    expect(await copies(placed!.queue_name)).toEqual([['order.placed', 'placed-only']]);
    // Recorded under the namespace queue's ids, never waiting in it for a router.
    const { rows } = await t.db.query<{ msg_id: number; name: string; delivery: string }>(
      `SELECT msg_id, message->>'name' AS name, headers->>'tasker_delivery' AS delivery
         FROM pgmq."a_${ns}_domain_events" ORDER BY msg_id`,
    );
    expect(rows.map((row) => [Number(row.msg_id), row.name, row.delivery])).toEqual([
      [ids[0], 'order.placed', 'durable'],
      [ids[1], 'order.shipped', 'acknowledged'],
    ]);
    expect((await queueCounts(t.db, `${ns}_domain_events`)).live).toBe(0);
  });

  it('refuses to publish in a namespace whose queues were never created, saying what to do', async () => {
    const ns = `pub_none_${kind}`;
    await expect(
      persistEvents(t.db, ns, [{ event: makeEvents(ns, 1)[0]!, delivery: 'durable' }]),
    ).rejects.toThrow(
      `cannot publish in namespace ${ns}: its queues do not exist yet (tasker.publish__${ns} is missing); create them with ensureNamespaceQueues(db, '${ns}'), as workers and event consumers do when they start`,
    );
  });

  it('leaves events in the namespace queue for a router while the namespace has no subscription', async () => {
    const ns = `pub_wait_${kind}`;
    await ensureNamespaceQueues(t.db, ns);
    await persistEvents(t.db, ns, [{ event: makeEvents(ns, 1)[0]!, delivery: 'durable' }]);
    expect(await queueCounts(t.db, `${ns}_domain_events`)).toEqual({ live: 1, archived: 0 });

    // From the registration on, publishers copy; a pattern changed by a later registration
    // (whichever version of Tasker writes it) takes effect at once.
    const [audit] = await registerDurableSubscriptions(t.db, ns, [{ id: 'audit', pattern: 'order.shipped' }]);
    await persistEvents(t.db, ns, [{ event: makeEvents(ns, 1)[0]!, delivery: 'durable' }]);
    expect(await copies(audit!.queue_name)).toEqual([]);
    await t.db.query('UPDATE tasker.event_subscriptions SET pattern = $2 WHERE namespace = $1', [
      ns,
      'order.#',
    ]);
    await persistEvents(t.db, ns, [{ event: makeEvents(ns, 1)[0]!, delivery: 'durable' }]);
    expect(await copies(audit!.queue_name)).toEqual([['order.placed', 'audit']]);
    expect(await queueCounts(t.db, `${ns}_domain_events`)).toEqual({ live: 1, archived: 2 });
  });

  it('retires a subscription while publishers wait, none of them copying into its dropped queue', async () => {
    const ns = `pub_retire_${kind}`;
    await ensureNamespaceQueues(t.db, ns);
    await registerDurableSubscriptions(t.db, ns, [
      { id: 'leaving', pattern: 'order.#' },
      { id: 'staying', pattern: 'order.#' },
    ]);
    const queues = await subscriberQueues(t.db, ns);
    let published: Promise<number[]> | undefined;
    await t.db.transaction(async (tx) => {
      await retireDurableSubscription(tx, ns, 'leaving');
      // The embedded database runs one transaction at a time: there the publisher simply comes
      // after. On the server it must wait for the retirement rather than copy into its queue.
      published = persistEvents(t.db, ns, [{ event: makeEvents(ns, 1)[0]!, delivery: 'durable' }]);
      if (kind === 'postgres') await waitForLockWait(t.db);
    });
    await published;
    expect(await copies(queues.staying!)).toEqual([['order.placed', 'staying']]);
    const left = await t.db.query<{ subscriber_id: string }>(
      'SELECT subscriber_id FROM tasker.event_subscriptions WHERE namespace = $1',
      [ns],
    );
    expect(left.rows.map((row) => row.subscriber_id)).toEqual(['staying']);
    expect(await queueCounts(t.db, `${ns}_domain_events`)).toEqual({ live: 0, archived: 1 });
  });

  // The embedded database runs one transaction at a time: nothing can stay open beside it.
  itOnServer(kind)(
    'gives a retirement up when a publishing transaction stays open, without holding publishers longer',
    async () => {
      const ns = `pub_busy_${kind}`;
      await ensureNamespaceQueues(t.db, ns);
      await registerDurableSubscriptions(t.db, ns, [{ id: 'stuck', pattern: 'order.#' }]);
      let retirement: Promise<string> | undefined;
      await t.db.transaction(async (tx) => {
        await persistEvents(tx, ns, [{ event: makeEvents(ns, 1)[0]!, delivery: 'durable' }]);
        retirement = removeDurableSubscription(t.db, ns, 'stuck');
        await expect(retirement).rejects.toThrow(
          `cannot retire "stuck" in ${ns}: a transaction publishing events in it has been open for more than 5 s; try again`,
        );
      });
      expect(Object.keys(await subscriberQueues(t.db, ns))).toEqual(['stuck']);
    },
  );
});
