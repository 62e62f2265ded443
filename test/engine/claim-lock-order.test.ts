/**
 * A worker's read claims the steps it read in step_uuid order (migration 0011), the order in
 * which cancelTask and the reports lock a task's steps, so a claim batch and a cancel of the
 * same task cannot deadlock. Two real connections: one holds a step's lock as a cancel would
 * (lowest uuid first) while the claim waits for it; the claim must not hold the other step.
 */
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTask } from '../../src/api/tasks.js';
import { workerQueue } from '../../src/engine/queues.js';
import { orchestrate } from '../../src/orchestration/orchestrate.js';
import { loadTemplates } from '../../src/templates/load.js';
import { readAndClaimSteps } from '../../src/worker/step-claim.js';
import { createReporter } from '../../src/worker/step-report.js';
import type { AttemptEvents } from '../../src/worker/step-events.js';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../helpers/databases.js';
import { waitForLockWait } from './support/history.js';
import { ROOT } from './support/processes.js';

const NO_EVENTS: AttemptEvents = {
  seal: () => undefined,
  publish: () => undefined,
  persists: () => false,
  persist: () => Promise.resolve(),
  release: () => undefined,
};

describe('claims on postgres', () => {
  let testDb: TestDatabase | undefined;
  let holder: pg.Client | undefined;
  beforeAll(async () => {
    testDb = await createTestDatabase('postgres');
    holder = new pg.Client({ connectionString: testDb.url });
    await holder.connect();
  });
  afterAll(async () => {
    await holder?.end();
    await testDb?.dispose();
  });
  beforeEach(keepDatabaseOnFailure);

  it('lock the steps of a batch in step_uuid order, whatever the order of their messages', async () => {
    const { db } = testDb!;
    const templates = await loadTemplates([path.join(ROOT, 'examples/dags/templates')]);
    const template = templates.get('dag_examples', 'diamond_workflow');
    const queue = workerQueue(template.namespace);
    const { taskUuid } = await createTask(db, { template, context: { even_number: 2 } });
    await orchestrate(db, [{ kind: 'initialize', taskUuid }]);
    const [root] = await readAndClaimSteps(db, queue, 1, 30, 'worker-a');
    if (root?.message.outcome !== 'claimed') throw new Error('expected the root step claimed');
    const report = createReporter(db, { orchestrate: true });
    const step = root.message.step;
    await report({ step, outcome: { ok: true, result: 4 }, queue, msgId: root.msgId, events: NO_EVENTS });

    // The two branches are enqueued; their messages go in the opposite order to their uuids.
    const { rows } = await db.query<{ msg_id: string; step_uuid: string }>(
      `SELECT msg_id::text, message->>'step_uuid' AS step_uuid FROM pgmq.q_${queue} ORDER BY msg_id`,
    );
    expect(rows).toHaveLength(2);
    const [low, high] = rows.map((row) => row.step_uuid).sort();
    await db.query(
      `UPDATE pgmq.q_${queue} SET message = jsonb_set(message, '{step_uuid}', to_jsonb($2::text)) WHERE msg_id = $1`,
      [rows[0]!.msg_id, high],
    );
    await db.query(
      `UPDATE pgmq.q_${queue} SET message = jsonb_set(message, '{step_uuid}', to_jsonb($2::text)) WHERE msg_id = $1`,
      [rows[1]!.msg_id, low],
    );

    // A cancel has locked the first step (lowest uuid first); the claim waits for it…
    await holder!.query('BEGIN');
    await holder!.query('SELECT 1 FROM tasker.workflow_steps WHERE step_uuid = $1 FOR UPDATE', [low]);
    const claiming = readAndClaimSteps(db, queue, 2, 30, 'worker-a');
    await waitForLockWait(db);
    // …without holding the second, which the cancel can therefore take next.
    await holder!.query('SELECT 1 FROM tasker.workflow_steps WHERE step_uuid = $1 FOR UPDATE NOWAIT', [high]);
    await holder!.query('ROLLBACK');

    const claimed = await claiming;
    expect(claimed.map((message) => message.message.outcome)).toEqual(['claimed', 'claimed']);
  });
});
