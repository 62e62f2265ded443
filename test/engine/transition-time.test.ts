/**
 * The times a task's history is written at (tasker.transition_time, migration 0009): its
 * telemetry span is rebuilt in their order, so a transaction that waited for the task's lock
 * must not carry a time from before the wait.
 */
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cancelTask } from '../../src/api/manual-actions.js';
import { createTask } from '../../src/api/tasks.js';
import { loadTemplates } from '../../src/templates/load.js';
import type { TemplateRegistry } from '../../src/templates/registry.js';
import {
  createTestDatabase,
  DATABASE_KINDS,
  keepDatabaseOnFailure,
  type TestDatabase,
} from '../helpers/databases.js';
import { ROOT } from './support/processes.js';

interface TransitionRow {
  from_state: string | null;
  to_state: string;
  at_us: string;
}

const TRANSITIONS = `SELECT from_state, to_state, (extract(epoch FROM created_at) * 1e6)::bigint::text AS at_us
                       FROM tasker.task_transitions WHERE task_uuid = $1 ORDER BY sort_key`;
const TASK_TIMES = `SELECT (extract(epoch FROM created_at) * 1e6)::bigint::text AS created_us,
                           (extract(epoch FROM completed_at) * 1e6)::bigint::text AS completed_us
                      FROM tasker.tasks WHERE task_uuid = $1`;
const LOCK = 'SELECT status FROM tasker.tasks WHERE task_uuid = $1 FOR UPDATE';
const MOVE = `SELECT tasker.transition_task($1, $2, $3, '{}')`;

let templates: TemplateRegistry;
beforeAll(async () => {
  templates = await loadTemplates([path.join(ROOT, 'examples/dags/templates')]);
});

describe.each(DATABASE_KINDS)('transition times on %s', (kind) => {
  let testDb: TestDatabase | undefined;
  beforeAll(async () => {
    testDb = await createTestDatabase(kind);
  });
  afterAll(() => testDb?.dispose());
  beforeEach(keepDatabaseOnFailure);

  it('give the task row the times of its first and last transitions', async () => {
    const { db } = testDb!;
    const { taskUuid } = await createTask(db, {
      template: templates.get('dag_examples', 'linear_workflow'),
      context: { even_number: 2 },
    });
    await cancelTask(db, taskUuid);
    const transitions = (await db.query<TransitionRow>(TRANSITIONS, [taskUuid])).rows;
    const task = (await db.query<{ created_us: string; completed_us: string }>(TASK_TIMES, [taskUuid]))
      .rows[0]!;
    expect(transitions.map((row) => row.to_state)).toEqual(['pending', 'cancelled']);
    expect(task.created_us).toBe(transitions[0]!.at_us);
    expect(task.completed_us).toBe(transitions[1]!.at_us);
  });
});

describe('transition times on postgres, with two writers', () => {
  let testDb: TestDatabase | undefined;
  const clients: pg.Client[] = [];
  beforeAll(async () => {
    testDb = await createTestDatabase('postgres');
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.end()));
    await testDb?.dispose();
  });
  beforeEach(keepDatabaseOnFailure);

  async function connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: testDb!.url });
    await client.connect();
    clients.push(client);
    return client;
  }

  it('stamp the history of a transaction that waited for the task with a time after the wait', async () => {
    const { taskUuid } = await createTask(testDb!.db, {
      template: templates.get('dag_examples', 'linear_workflow'),
      context: { even_number: 2 },
    });
    const [early, holder] = [await connect(), await connect()];
    // `early` starts its transaction first, then queues behind `holder` for the task's lock.
    await early.query('BEGIN');
    await early.query('SELECT now()');
    await holder.query('BEGIN');
    await holder.query(LOCK, [taskUuid]);
    const earlyPid = (await early.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const waited = early.query(LOCK, [taskUuid]);
    await waitUntilBlocked(holder, earlyPid);
    await holder.query(MOVE, [taskUuid, 'pending', 'initializing']);
    await holder.query('COMMIT');
    await waited;
    await early.query(MOVE, [taskUuid, 'initializing', 'enqueuing_steps']);
    await early.query('COMMIT');

    const transitions = (await testDb!.db.query<TransitionRow>(TRANSITIONS, [taskUuid])).rows;
    expect(transitions.map((row) => row.to_state)).toEqual(['pending', 'initializing', 'enqueuing_steps']);
    const [, held, late] = transitions.map((row) => BigInt(row.at_us));
    expect(late! > held!).toBe(true);
  });
});

/** Resolves once backend `pid` is waiting for a lock. */
async function waitUntilBlocked(observer: pg.Client, pid: number): Promise<void> {
  for (;;) {
    const { rows } = await observer.query<{ waiting: boolean }>(
      `SELECT wait_event_type = 'Lock' AS waiting FROM pg_stat_activity WHERE pid = $1`,
      [pid],
    );
    if (rows[0]?.waiting) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
