/**
 * A `tasker events consume` process SIGKILLed in the middle of a subscriber's handler, on the
 * real server: after a new consumer starts, the event is delivered again. Acknowledged: the
 * subscriber's row (written through ctx.tx) exists exactly once, and so does every other
 * event of the batch that was in flight. Durable: delivered again (at least once).
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { blockedMarker } from '../../fixtures/durable/subscribers.js';
import { spawnTasker, type TaskerProcess } from '../../engine/support/processes.js';
import {
  drained,
  effectsOf,
  effectSummary,
  eventually,
  FAST_DELIVERY,
  FIXTURE_MODULE,
  makeEvents,
  publish,
  queueCounts,
  subscriberQueues,
  type PersistedDelivery,
  useProcessWorld,
} from './support/harness.js';

const NS = 'durable_crash';
const EVENTS = 20;

describe(
  'a consumer SIGKILLed in the middle of a handler (real server, OS processes)',
  { timeout: 240_000 },
  () => {
    const world = useProcessWorld(FAST_DELIVERY);

    async function consumer(): Promise<TaskerProcess> {
      const child = spawnTasker(
        ['events', 'consume', '--handlers', FIXTURE_MODULE, '--namespace', NS],
        world().env,
      );
      await child.waitForOutput(/running; SIGTERM/);
      return child;
    }

    it.each<PersistedDelivery>(['acknowledged', 'durable'])(
      '%s: the event comes back after the kill',
      async (delivery) => {
        const db = world().db;
        const first = await consumer();
        // The ledger hangs on the last event of the batch, after recording its effect.
        const events = makeEvents(NS, EVENTS - 1).concat(
          makeEvents(NS, 1, { block: ['ledger'] }, EVENTS - 1),
        );
        const blocked = events.at(-1)!;
        await publish(db, NS, events, delivery);
        const queues = await subscriberQueues(db, NS);
        await eventually('the ledger to hang in its handler', () =>
          Promise.resolve(
            existsSync(blockedMarker(world().scratch.dir, 'ledger', blocked.id)) ? true : undefined,
          ),
        );
        // The mailer was not blocked: let it finish, so its share is settled before the kill.
        await eventually('the mailer to finish', async () =>
          (await queueCounts(db, queues.mailer!)).live === 0 ? true : undefined,
        );

        first.child.kill('SIGKILL');
        await first.exited;
        const beforeRestart = (await effectsOf(db, blocked.id)).filter((row) => row.subscriber === 'ledger');
        // Acknowledged: the effect died with the transaction. Durable: the first attempt's write stays.
        expect(beforeRestart).toEqual(
          delivery === 'acknowledged'
            ? []
            : [{ subscriber: 'ledger', attempt: 1, delivery: 'durable', pid: first.pid }],
        );

        const second = await consumer();
        await eventually('every queue of the namespace to drain', async () =>
          (await drained(db, NS)) ? true : undefined,
        );

        const ledger = (await effectsOf(db, blocked.id)).filter((row) => row.subscriber === 'ledger');
        if (delivery === 'acknowledged') {
          // Exactly once: only the redelivery's write committed.
          expect(ledger).toEqual([
            { subscriber: 'ledger', attempt: 2, delivery: 'acknowledged', pid: second.pid },
          ]);
          const summary = await effectSummary(db);
          expect(summary.ledger).toEqual({ subscriber: 'ledger', rows: EVENTS, events: EVENTS });
          expect(summary.mailer).toEqual({ subscriber: 'mailer', rows: EVENTS, events: EVENTS });
          const { rows } = await db.query<{ subscriber_id: string; n: number }>(
            `SELECT subscriber_id, count(*)::int AS n FROM tasker.event_acknowledgements
            WHERE namespace = $1 GROUP BY subscriber_id ORDER BY subscriber_id`,
            [NS],
          );
          expect(rows).toEqual([
            { subscriber_id: 'ledger', n: EVENTS },
            { subscriber_id: 'mailer', n: EVENTS },
          ]);
        } else {
          // At least once: the first attempt's write and the redelivery's.
          expect(ledger).toEqual([
            { subscriber: 'ledger', attempt: 1, delivery: 'durable', pid: first.pid },
            { subscriber: 'ledger', attempt: 2, delivery: 'durable', pid: second.pid },
          ]);
          const summary = await effectSummary(db);
          expect(summary.ledger?.events).toBe(EVENTS);
          expect(summary.ledger!.rows).toBeGreaterThanOrEqual(EVENTS + 1);
          expect(summary.mailer).toEqual({ subscriber: 'mailer', rows: EVENTS, events: EVENTS });
        }
        // Nothing was dead-lettered: a crash is not a failed attempt of the handler.
        expect((await queueCounts(db, `${NS}_domain_events_dlq`)).live).toBe(0);
      },
    );
  },
);
