/**
 * The times a task's history is written at (tasker.transition_time, migration 0009): its
 * telemetry span is rebuilt in their order, so a transaction that waited for the task's lock
 * must not carry a time from before the wait.
 */
import { setTimeout as sleep } from 'node:timers/promises';
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
import { waitForLockWait } from './support/history.js';
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

  it('stamp a transaction once, whatever its date style and time zone, and each transaction anew', async () => {
    const { db } = testDb!;
    // Microseconds since the epoch: the client cannot parse every date style's text.
    const EPOCH_US = (expression: string) => `(extract(epoch FROM ${expression}) * 1e6)::bigint::text`;
    const stampOf = (settings: string[]) =>
      db.transaction(async (tx) => {
        for (const setting of settings) await tx.query(setting);
        const first = await tx.query<{ stamp: string; clock: string }>(
          `SELECT ${EPOCH_US('tasker.transition_time()')} AS stamp, ${EPOCH_US('clock_timestamp()')} AS clock`,
        );
        // Read back under another date style, later in the same transaction.
        await tx.query("SET LOCAL DateStyle = 'SQL, MDY'");
        const again = await tx.query<{ stamp: string }>(
          `SELECT ${EPOCH_US('tasker.transition_time()')} AS stamp`,
        );
        const { stamp, clock } = first.rows[0]!;
        return { stamp: BigInt(stamp), clock: BigInt(clock), again: BigInt(again.rows[0]!.stamp) };
      });
    const odd = await stampOf(["SET LOCAL TimeZone = 'Asia/Kolkata'", "SET LOCAL DateStyle = 'SQL, DMY'"]);
    const skew = odd.clock - odd.stamp;
    expect(skew >= 0n && skew < 1_000_000n).toBe(true);
    expect(odd.again).toBe(odd.stamp);
    // A clock tick later (the embedded server's clock may count whole milliseconds).
    await sleep(5);
    const next = await stampOf([]);
    expect(next.stamp > odd.stamp).toBe(true);
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
    await waitForLockWait(testDb!.db, earlyPid);
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
