/**
 * Migration 0012 routes durable events as they are published, through a function per namespace.
 * A database made before it has namespaces with queues but no such function, and subscriptions
 * without a regular expression: the migration must make the functions, and publishing must keep
 * to the router's path until the subscriptions are registered again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { ensureNamespaceQueues } from '../../src/engine/namespace-queues.js';
import { registerDurableSubscriptions } from '../../src/events/domain/durable-subscriptions.js';
import { createDomainEvent } from '../../src/events/domain/envelope.js';
import { persistEvents } from '../../src/events/domain/outbox.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../helpers/databases.js';

const NS = 'upgrade_publish';
const MIGRATION = '0012_publish_routing.sql';

const event = () =>
  createDomainEvent(
    'order.placed',
    { n: 1 },
    {
      namespace: NS,
      taskUuid: '0190a000-0000-7000-8000-000000000001',
      stepUuid: '0190a000-0000-7000-8000-000000000002',
      stepName: 'upgrade',
      correlationId: 'upgrade',
      firedBy: 'upgrade',
    },
  );

describe.each(DATABASE_KINDS)('upgrading to routing at publication on %s', (kind) => {
  let t: TestDatabase;

  beforeAll(async () => {
    t = await createTestDatabase(kind);
    await ensureNamespaceQueues(t.db, NS);
    await registerDurableSubscriptions(t.db, NS, [{ id: 'audit', pattern: 'order.#' }]);
    // The database as migration 0011 left it.
    await t.db.exec(`
      DROP FUNCTION tasker.publish__${NS}(jsonb[], jsonb[]);
      DROP FUNCTION tasker.ensure_publish_statement(text);
      DROP FUNCTION tasker.create_publish_statement(text);
      DROP FUNCTION tasker.publication_lock_key(text);
      ALTER TABLE tasker.event_subscriptions DROP COLUMN name_regex;
      DELETE FROM tasker.schema_migrations WHERE name = '${MIGRATION}';`);
  });
  afterAll(() => t.dispose());

  it('makes the publish function of every namespace, which routers keep serving until re-registration', async () => {
    const report = await migrate(t.db, { pgmq: 'auto' });
    expect(report.applied).toEqual([MIGRATION]);
    const queued = async () =>
      (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pgmq.q_${NS}_domain_events`)).rows[0]!
        .n;

    await persistEvents(t.db, NS, [{ event: event(), delivery: 'durable' }]);
    expect(await queued()).toBe(1);

    await registerDurableSubscriptions(t.db, NS, [{ id: 'audit', pattern: 'order.#' }]);
    await persistEvents(t.db, NS, [{ event: event(), delivery: 'durable' }]);
    expect(await queued()).toBe(1);
    const { rows } = await t.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pgmq.a_${NS}_domain_events`,
    );
    expect(rows[0]!.n).toBe(1);
  });
});
