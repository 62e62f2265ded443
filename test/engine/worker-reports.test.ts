/**
 * Workers' reports (migration 0010). Claim tokens: a worker's claim commits without waiting for
 * its WAL flush, so a server crash can undo it after the handler started; the step is then
 * claimed again with the same attempt number, and the report of the undone claim must not be
 * taken for the new one's (the crash is simulated by restoring, in SQL, what the claim had
 * changed). Orchestration by the reporting worker: a result is orchestrated in the report's
 * transaction when its task is free, else it goes to the orchestrators' queue. Claims lock the
 * steps of a batch in step_uuid order (migration 0011), as cancels and reports do, so a claim
 * batch and a cancel of the same task cannot deadlock.
 */
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTask } from '../../src/api/tasks.js';
import type { Database, Queryable } from '../../src/db/database.js';
import { workerQueue } from '../../src/engine/queues.js';
import { orchestrate, type ItemOutcome } from '../../src/orchestration/orchestrate.js';
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
import { waitForLockWait } from './support/history.js';
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

describe.each(DATABASE_KINDS)('worker reports on %s', (kind) => {
  let testDb: TestDatabase | undefined;
  beforeAll(async () => {
    testDb = await createTestDatabase(kind);
  });
  afterAll(() => testDb?.dispose());
  beforeEach(keepDatabaseOnFailure);

  it('orchestrate a result at once when its task is free', async () => {
    const { db } = testDb!;
    const { taskUuid, queue, claimed } = await startAndClaim(db);
    const outcomes: ItemOutcome[] = [];
    const report = createReporter(db, {
      orchestrate: true,
      onOrchestrated: (outcome) => outcomes.push(outcome),
    });
    expect(
      await report({
        step: claimed.step,
        outcome: { ok: true, result: 4 },
        queue,
        msgId: claimed.msgId,
        events: NO_EVENTS,
      }),
    ).toBe(true);

    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({
      kind: 'result',
      taskUuid,
      result: {
        stepName: 'linear_step_1',
        stepState: 'complete',
        evaluation: { enqueued: ['linear_step_2'] },
      },
    });
    expect(await statesOf(db, taskUuid)).toEqual(['complete', 'enqueued', 'pending', 'pending']);
    expect(await queuedResults(db)).toBe(0);
  });

  it('refuse the report of a claim a crash undid, and take the new claim’s', async () => {
    const { db } = testDb!;
    const { queue, claimed: first } = await startAndClaim(db);
    await undoClaim(db, queue, first.step, first.msgId);
    const second = await claimNext(db, queue);
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

/** Creates a linear task, enqueues its first step and claims it. */
async function startAndClaim(db: Database) {
  const template = templates.get('dag_examples', 'linear_workflow');
  const queue = workerQueue(template.namespace);
  const { taskUuid } = await createTask(db, { template, context: { even_number: 2 } });
  await orchestrate(db, [{ kind: 'initialize', taskUuid }]);
  // Other tests' tasks may have steps waiting in the same queue: claim until this task's.
  for (;;) {
    const claimed = await claimNext(db, queue);
    if (claimed.step.task_uuid === taskUuid) return { taskUuid, queue, claimed };
  }
}

/** Reads and claims the next step message of `queue`. */
async function claimNext(db: Database, queue: string) {
  const [message] = await readAndClaimSteps(db, queue, 1, 30, 'worker-a');
  if (message?.message.outcome !== 'claimed') throw new Error('expected a claimed step');
  return { step: message.message.step, msgId: message.msgId };
}

async function statesOf(db: Queryable, taskUuid: string): Promise<string[]> {
  const { rows } = await db.query<{ state: string }>(
    'SELECT state FROM tasker.workflow_steps WHERE task_uuid = $1 ORDER BY position',
    [taskUuid],
  );
  return rows.map((row) => row.state);
}

async function queuedResults(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM pgmq.q_orchestration_step_results',
  );
  return rows[0]!.n;
}

describe('worker reports on postgres, with the task held elsewhere', () => {
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

  it('stamp the orchestration after its locks, not with the time of the reports before it', async () => {
    const { db } = testDb!;
    const first = await startAndClaim(db);
    const second = await startAndClaim(db);
    const payload = [first, second].map(({ claimed, queue }) => ({
      step_uuid: claimed.step.step_uuid,
      attempt: claimed.step.attempt,
      claim_id: claimed.step.claim_id,
      ok: true,
      result: 4,
      error: null,
      queue,
      msg_id: claimed.msgId,
    }));
    // The reports' statement records the first step, then waits for the second one's row…
    await holder!.query('BEGIN');
    await holder!.query('SELECT 1 FROM tasker.workflow_steps WHERE step_uuid = $1 FOR UPDATE', [
      second.claimed.step.step_uuid,
    ]);
    const reporting = db.query('SELECT tasker.report_attempts($1::jsonb, true)', [JSON.stringify(payload)]);
    await waitForLockWait(db);
    // …while another transaction writes the first task's history and commits.
    await db.query(`SELECT tasker.transition_task($1, 'steps_in_process', 'steps_in_process', '{}')`, [
      first.taskUuid,
    ]);
    await holder!.query('ROLLBACK');
    await reporting;

    const { rows } = await db.query<{ to_state: string; at: string }>(
      `SELECT to_state, (extract(epoch FROM created_at) * 1e6)::bigint::text AS at
         FROM tasker.task_transitions WHERE task_uuid = $1 ORDER BY sort_key`,
      [first.taskUuid],
    );
    expect(rows.map((row) => row.to_state)).toContain('enqueuing_steps');
    const times = rows.map((row) => BigInt(row.at));
    expect(times).toEqual([...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });

  it('leave the result to the orchestrators instead of waiting for the task', async () => {
    const { db } = testDb!;
    const { taskUuid, queue, claimed } = await startAndClaim(db);
    await holder!.query('BEGIN');
    await holder!.query('SELECT 1 FROM tasker.tasks WHERE task_uuid = $1 FOR UPDATE', [taskUuid]);
    const outcomes: ItemOutcome[] = [];
    const report = createReporter(db, {
      orchestrate: true,
      onOrchestrated: (outcome) => outcomes.push(outcome),
    });
    const reported = await report({
      step: claimed.step,
      outcome: { ok: true, result: 4 },
      queue,
      msgId: claimed.msgId,
      events: NO_EVENTS,
    });
    await holder!.query('ROLLBACK');

    expect(reported).toBe(true);
    expect(outcomes).toEqual([undefined]);
    expect(await statesOf(db, taskUuid)).toEqual([
      'enqueued_for_orchestration',
      'pending',
      'pending',
      'pending',
    ]);
    expect(await queuedResults(db)).toBe(1);
  });

  it('claim the steps of a batch in step_uuid order, whatever the order of their messages', async () => {
    const { db } = testDb!;
    const template = templates.get('dag_examples', 'diamond_workflow');
    const queue = workerQueue(template.namespace);
    const { taskUuid } = await createTask(db, { template, context: { even_number: 2 } });
    await orchestrate(db, [{ kind: 'initialize', taskUuid }]);
    const [root] = await readAndClaimSteps(db, queue, 1, 30, 'worker-a');
    if (root?.message.outcome !== 'claimed') throw new Error('expected the root step claimed');
    const report = createReporter(db, { orchestrate: true });
    const step = root.message.step;
    await report({ step, outcome: { ok: true, result: 4 }, queue, msgId: root.msgId, events: NO_EVENTS });

    // The two branches are enqueued; their messages go in the opposite order to their uuids, and
    // other tests' messages are hidden.
    const { rows } = await db.query<{ msg_id: string; step_uuid: string }>(
      `SELECT msg_id::text, message->>'step_uuid' AS step_uuid FROM pgmq.q_${queue}
        WHERE message->>'task_uuid' = $1 ORDER BY msg_id`,
      [taskUuid],
    );
    expect(rows).toHaveLength(2);
    await db.query(
      `UPDATE pgmq.q_${queue} SET vt = clock_timestamp() + interval '1 hour' WHERE message->>'task_uuid' <> $1`,
      [taskUuid],
    );
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
