/**
 * Migration 0012 routes durable events as they are published, through a function per namespace.
 * A database made before it has namespaces with queues and subscriptions but no such function:
 * the migration must make the functions, and the subscriptions must take copies at once.
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
      DROP FUNCTION tasker.pattern_regex(text);
      DELETE FROM tasker.schema_migrations WHERE name = '${MIGRATION}';`);
  });
  afterAll(() => t.dispose());

  it('makes the publish function of every namespace, routing to the subscriptions it already had', async () => {
    const report = await migrate(t.db, { pgmq: 'auto' });
    expect(report.applied).toEqual([MIGRATION]);
    await persistEvents(t.db, NS, [{ event: event(), delivery: 'durable' }]);
    const count = async (table: string) =>
      (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pgmq.${table}`)).rows[0]!.n;
    expect(await count(`q_${NS}_domain_events`)).toBe(0);
    expect(await count(`a_${NS}_domain_events`)).toBe(1);
    const { rows } = await t.db.query<{ queue_name: string }>(
      'SELECT queue_name FROM tasker.event_subscriptions WHERE namespace = $1',
      [NS],
    );
    expect(await count(`q_${rows[0]!.queue_name}`)).toBe(1);
  });
});
