/**
 * Migration 0008 changes the shape of the queues' send functions (a delay, the new ids
 * returned). A database made before it has queues whose functions were made by the old
 * tasker.create_queue_statements: the migration must give each of them the new set.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { PgmqClient } from '../../src/messaging/pgmq-client.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../helpers/databases.js';

const QUEUE = 'worker_upgrade_queue';
const MIGRATION = '0008_event_routing.sql';

/** The argument lists of the tasker functions named `name`. */
async function signatures(t: TestDatabase, name: string): Promise<string[]> {
  const { rows } = await t.db.query<{ args: string }>(
    `SELECT pg_get_function_identity_arguments(p.oid) AS args
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'tasker' AND p.proname = $1`,
    [name],
  );
  return rows.map((row) => row.args);
}

describe.each(DATABASE_KINDS)('upgrading queue statement functions on %s', (kind) => {
  let t: TestDatabase;

  beforeAll(async () => {
    t = await createTestDatabase(kind);
    await new PgmqClient(t.db).createQueue(QUEUE);
    // The database as migration 0007 left it: this queue's send function of the old shape,
    // and none of what 0008 adds.
    await t.db.exec(`
      DROP FUNCTION tasker.read_and_route_events(text, text, text, integer, integer, text[], text[], jsonb[], integer[]);
      DROP FUNCTION tasker.drop_queue_statements(text);
      DROP FUNCTION tasker.archive_queue(text, bigint[]);
      DROP FUNCTION tasker.send_queue(text, jsonb[], jsonb[], integer);
      CREATE FUNCTION tasker.send__${QUEUE}(p_msgs jsonb[], p_headers jsonb[]) RETURNS void
        LANGUAGE sql AS $$ INSERT INTO pgmq.q_${QUEUE} (vt, message, headers)
                           SELECT clock_timestamp(), u.m, u.h FROM unnest(p_msgs, p_headers) AS u(m, h) $$;
      DELETE FROM tasker.schema_migrations WHERE name = '${MIGRATION}';`);
  });
  afterAll(() => t.dispose());

  it('gives every queue that had statement functions the new set', async () => {
    expect(await signatures(t, `send__${QUEUE}`)).toEqual(['p_msgs jsonb[], p_headers jsonb[]']);
    const report = await migrate(t.db, { pgmq: 'auto' });
    expect(report.applied).toEqual([MIGRATION]);
    expect(await signatures(t, `send__${QUEUE}`)).toEqual([
      'p_msgs jsonb[], p_headers jsonb[], p_delay integer',
    ]);
    for (const op of ['read', 'archive', 'hide'])
      expect(await signatures(t, `${op}__${QUEUE}`)).toHaveLength(1);
    // The engine's own queues too, and two-argument calls (claim_step's) still resolve.
    expect(await signatures(t, 'send__orchestration_step_results')).toEqual([
      'p_msgs jsonb[], p_headers jsonb[], p_delay integer',
    ]);
    const { rows } = await t.db.query<{ id: number }>(
      `SELECT id FROM tasker.send__${QUEUE}(ARRAY['{"n": 1}'::jsonb], NULL) AS id`,
    );
    expect(rows).toHaveLength(1);
  });
});
