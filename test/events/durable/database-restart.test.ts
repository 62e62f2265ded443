/**
 * The database restarts while two `tasker events consume` processes deliver: they reconnect and
 * nothing is lost (acknowledged: every subscriber has every event exactly once; durable: at
 * least once). This test restarts its server, so it runs a private PostgreSQL 15 cluster on a
 * free port (initdb as the `postgres` OS user), never the shared server on 5432.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/db/database.js';
import { migrate } from '../../../src/db/migrate.js';
import { openPgDatabase } from '../../../src/db/pg-database.js';
import { EFFECTS_TABLE_SQL, SUBSCRIBER_IDS } from '../../fixtures/durable/subscribers.js';
import { killAll, spawnTasker, type TaskerProcess } from '../../engine/support/processes.js';
import {
  drained,
  effectSummary,
  eventually,
  FIXTURE_MODULE,
  makeEvents,
  makeScratch,
  publish,
  type PersistedDelivery,
  type Scratch,
} from './support/harness.js';
import { canRunPrivateCluster, startPrivateCluster, type PrivateCluster } from './support/private-cluster.js';

const NS = 'durable_restart';
const EVENTS = 4_000;
const BATCH = 100;

describe.skipIf(!canRunPrivateCluster())(
  'a database restart during consumption',
  { timeout: 300_000 },
  () => {
    let cluster: PrivateCluster | undefined;
    let db: Database | undefined;
    let scratch: Scratch | undefined;

    beforeEach(async () => {
      cluster = await startPrivateCluster();
      await cluster.createDatabase('tasker_restart');
      db = await openPgDatabase({ connectionString: cluster.url('tasker_restart'), poolSize: 4 });
      await migrate(db, { pgmq: 'auto' });
      await db.exec(EFFECTS_TABLE_SQL);
      // A handler failing while the server is down counts as an attempt: allow plenty.
      scratch = makeScratch({
        visibility_timeout: 2,
        max_delivery_attempts: 50,
        poll_interval_ms: 200,
        retry_backoff_base_ms: 100,
        retry_backoff_max_ms: 1000,
      });
    }, 120_000);

    afterEach(async () => {
      await killAll();
      await db?.close().catch(() => undefined);
      await cluster?.destroy();
      scratch?.cleanup();
    });

    /** Publishes batch after batch, retrying a batch the restart interrupted (ids repeat, so acknowledged dedupes). */
    async function publishThroughRestart(delivery: PersistedDelivery, events: ReturnType<typeof makeEvents>) {
      for (let i = 0; i < events.length; i += BATCH) {
        for (;;) {
          try {
            await publish(db!, NS, events.slice(i, i + BATCH), delivery, BATCH);
            break;
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        }
      }
    }

    it.each<[PersistedDelivery, 'fast' | 'immediate']>([
      ['acknowledged', 'immediate'],
      ['durable', 'fast'],
    ])('%s events survive a restart (-m %s)', async (delivery, mode) => {
      const env = {
        DATABASE_URL: cluster!.url('tasker_restart'),
        TASKER_CONFIG_ROOT: scratch!.configRoot,
        TASKER_ENV: undefined,
        DURABLE_FIXTURE_DIR: scratch!.dir,
      };
      const consumers: TaskerProcess[] = [1, 2].map(() =>
        spawnTasker(['events', 'consume', '--handlers', FIXTURE_MODULE, '--namespace', NS], env),
      );
      await Promise.all(consumers.map((child) => child.waitForOutput(/running; SIGTERM/)));
      const events = makeEvents(NS, EVENTS);
      const half = EVENTS / 2;

      await publishThroughRestart(delivery, events.slice(0, half));
      // Restart while the first half is being delivered.
      await eventually('deliveries to be under way', async () => {
        const summary = await effectSummary(db!);
        return (summary.ledger?.rows ?? 0) > 0 ? true : undefined;
      });
      await cluster!.restart(mode);
      // The second half is published after the restart: delivering it needs reconnected consumers.
      await publishThroughRestart(delivery, events.slice(half));

      await eventually(
        'every event to be delivered',
        async () => {
          try {
            const summary = await effectSummary(db!);
            const done = SUBSCRIBER_IDS.every((id) => summary[id]?.events === EVENTS);
            return done && (await drained(db!, NS)) ? true : undefined;
          } catch {
            return undefined; // a connection of the pool died with the restart
          }
        },
        240_000,
      ).catch(async (error: unknown) => {
        const state = JSON.stringify(await effectSummary(db!).catch(() => 'unreadable'));
        const outputs = consumers.map(
          (child) =>
            `--- consumer ${child.pid} (exit ${child.child.exitCode}):\n${child.output().slice(-3000)}`,
        );
        throw new Error(`${String(error)}\neffects: ${state}\n${outputs.join('\n')}`);
      });
      const summary = await effectSummary(db!);
      for (const id of SUBSCRIBER_IDS) {
        expect(summary[id]?.events, `${id}: distinct events`).toBe(EVENTS);
        if (delivery === 'acknowledged') expect(summary[id]?.rows, `${id}: rows`).toBe(EVENTS);
        else expect(summary[id]!.rows).toBeGreaterThanOrEqual(EVENTS);
      }
      // Both consumers lived through the restart.
      for (const child of consumers) expect(child.child.exitCode, child.output()).toBeNull();
      const dlq = await db!.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pgmq."q_${NS}_domain_events_dlq"`,
      );
      expect(dlq.rows[0]!.n).toBe(0);
    });
  },
);
