/**
 * Two `tasker events consume` processes compete over 10,000 events on the real server, with two
 * subscribers each: acknowledged, every subscriber handles every event exactly once; durable,
 * at least once and none missing.
 */
import { describe, expect, it } from 'vitest';
import { SUBSCRIBER_IDS } from '../../fixtures/durable/subscribers.js';
import { spawnTasker, type TaskerProcess } from '../../engine/support/processes.js';
import {
  drained,
  effectSummary,
  eventually,
  FIXTURE_MODULE,
  makeEvents,
  publish,
  type PersistedDelivery,
  useProcessWorld,
} from './support/harness.js';

const NS = 'durable_compete';
const EVENTS = 10_000;

describe('two consumer processes compete (real server)', { timeout: 420_000 }, () => {
  const world = useProcessWorld({
    visibility_timeout: 20,
    poll_interval_ms: 200,
    retry_backoff_base_ms: 100,
  });

  async function consumers(): Promise<TaskerProcess[]> {
    const started = [1, 2].map(() =>
      spawnTasker(['events', 'consume', '--handlers', FIXTURE_MODULE, '--namespace', NS], world().env),
    );
    await Promise.all(started.map((child) => child.waitForOutput(/running; SIGTERM/)));
    return started;
  }

  it.each<PersistedDelivery>(['acknowledged', 'durable'])(
    '%s: 10,000 events, 2 subscribers',
    async (delivery) => {
      const db = world().db;
      const processes = await consumers();
      await publish(db, NS, makeEvents(NS, EVENTS), delivery, 100);
      await eventually(
        'every subscriber to have every event',
        async () => {
          const summary = await effectSummary(db);
          const done = SUBSCRIBER_IDS.every((id) => summary[id]?.events === EVENTS);
          return done && (await drained(db, NS)) ? true : undefined;
        },
        300_000,
      );

      const summary = await effectSummary(db);
      const numbers = await db.query<{
        subscriber: string;
        lowest: number;
        highest: number;
        duplicated: number;
      }>(
        `SELECT subscriber, min(n) AS lowest, max(n) AS highest,
              (SELECT count(*) FROM (SELECT 1 FROM durable_effects d WHERE d.subscriber = e.subscriber
                 GROUP BY n HAVING count(*) > 1) dups)::int AS duplicated
         FROM durable_effects e GROUP BY subscriber ORDER BY subscriber`,
      );
      for (const id of SUBSCRIBER_IDS) {
        expect(summary[id]?.events, `${id}: distinct events`).toBe(EVENTS);
        if (delivery === 'acknowledged') expect(summary[id]?.rows, `${id}: rows`).toBe(EVENTS);
        else expect(summary[id]!.rows, `${id}: rows`).toBeGreaterThanOrEqual(EVENTS);
      }
      expect(
        numbers.rows.map(({ subscriber, lowest, highest }) => ({ subscriber, lowest, highest })),
      ).toEqual(SUBSCRIBER_IDS.map((subscriber) => ({ subscriber, lowest: 0, highest: EVENTS - 1 })));
      if (delivery === 'acknowledged') {
        expect(numbers.rows.map((row) => row.duplicated)).toEqual([0, 0]);
        const acks = await db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM tasker.event_acknowledgements WHERE namespace = $1',
          [NS],
        );
        expect(acks.rows[0]!.n).toBe(EVENTS * SUBSCRIBER_IDS.length);
      }
      // Both processes took part.
      const byProcess = await db.query<{ pid: number }>(
        'SELECT DISTINCT pid FROM durable_effects ORDER BY pid',
      );
      expect(byProcess.rows.map((row) => row.pid)).toEqual(
        processes.map((child) => child.pid).sort((a, b) => a - b),
      );
    },
  );
});
