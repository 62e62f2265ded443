/**
 * Claim tokens (migration 0010): a worker's claim commits without waiting for its WAL flush, so a
 * server crash can undo it after the handler started. The step is then claimed again with the
 * same attempt number; the report of the undone claim must not be taken for the new one's.
 * The crash is simulated by restoring, in SQL, what the claim had changed.
 */
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTask } from '../../src/api/tasks.js';
import type { Queryable } from '../../src/db/database.js';
import { workerQueue } from '../../src/engine/queues.js';
import { orchestrate } from '../../src/orchestration/orchestrate.js';
import { loadTemplates } from '../../src/templates/load.js';
import type { TemplateRegistry } from '../../src/templates/registry.js';
import { readAndClaimSteps, type ClaimedStep } from '../../src/worker/step-claim.js';
import { createReporter } from '../../src/worker/step-report.js';
import type { AttemptEvents } from '../../src/worker/step-events.js';
import {
  createTestDatabase,
  DATABASE_KINDS,
  keepDatabaseOnFailure,
  type TestDatabase,
} from '../helpers/databases.js';
import { ROOT } from './support/processes.js';

const NO_EVENTS: AttemptEvents = {
  seal: () => undefined,
  publish: () => undefined,
  persists: () => false,
  persist: () => Promise.resolve(),
  release: () => undefined,
};

/** What the claim of `step` wrote, taken back as a crash before its WAL flush would. */
async function undoClaim(db: Queryable, queue: string, step: ClaimedStep, msgId: number): Promise<void> {
  await db.query('DELETE FROM tasker.step_attempts WHERE step_uuid = $1', [step.step_uuid]);
  await db.query(`DELETE FROM tasker.step_transitions WHERE step_uuid = $1 AND to_state = 'in_progress'`, [
    step.step_uuid,
  ]);
  await db.query(
    `UPDATE tasker.step_transitions SET most_recent = true WHERE step_uuid = $1 AND to_state = 'enqueued'`,
    [step.step_uuid],
  );
  await db.query(
    `UPDATE tasker.workflow_steps SET state = 'enqueued', attempts = attempts - 1 WHERE step_uuid = $1`,
    [step.step_uuid],
  );
  await db.query(
    `UPDATE pgmq.q_${queue} SET vt = clock_timestamp(), read_ct = read_ct - 1 WHERE msg_id = $1`,
    [msgId],
  );
}

let templates: TemplateRegistry;
beforeAll(async () => {
  templates = await loadTemplates([path.join(ROOT, 'examples/dags/templates')]);
});

describe.each(DATABASE_KINDS)('claim tokens on %s', (kind) => {
  let testDb: TestDatabase | undefined;
  beforeAll(async () => {
    testDb = await createTestDatabase(kind);
  });
  afterAll(() => testDb?.dispose());
  beforeEach(keepDatabaseOnFailure);

  it('refuse the report of a claim a crash undid, and take the new claim’s', async () => {
    const { db } = testDb!;
    const template = templates.get('dag_examples', 'linear_workflow');
    const queue = workerQueue(template.namespace);
    const { taskUuid } = await createTask(db, { template, context: { even_number: 2 } });
    await orchestrate(db, [{ kind: 'initialize', taskUuid }]);

    const claimOnce = async () => {
      const [message] = await readAndClaimSteps(db, queue, 10, 30, 'worker-a');
      if (message?.message.outcome !== 'claimed') throw new Error('expected a claimed step');
      return { step: message.message.step, msgId: message.msgId };
    };
    const first = await claimOnce();
    await undoClaim(db, queue, first.step, first.msgId);
    const second = await claimOnce();
    expect(second.step.attempt).toBe(first.step.attempt);
    expect(second.step.claim_id).not.toBe(first.step.claim_id);

    const report = createReporter(db);
    const reportOf = (step: ClaimedStep, msgId: number, result: number) =>
      report({ step, outcome: { ok: true, result }, queue, msgId, events: NO_EVENTS });
    expect(await reportOf(first.step, first.msgId, 1)).toBe(false);
    expect(await reportOf(second.step, second.msgId, 2)).toBe(true);

    const { rows } = await db.query<{ state: string; result: unknown; outcome: string }>(
      `SELECT s.state, s.result, a.outcome FROM tasker.workflow_steps s
         JOIN tasker.step_attempts a ON a.step_uuid = s.step_uuid AND a.attempt = s.attempts
        WHERE s.step_uuid = $1`,
      [second.step.step_uuid],
    );
    expect(rows).toEqual([{ state: 'enqueued_for_orchestration', result: 2, outcome: 'success' }]);
  });
});
