/**
 * Reads the persisted task and step transition histories and checks that each is one
 * unbroken chain: sort keys 1..n, every row starting where the previous one ended, exactly
 * one `most_recent` (the last), and the last state equal to the state on the task or step row.
 */
import { expect } from 'vitest';
import type { Queryable } from '../../../src/db/database.js';
import { canTransition as canStepTransition } from '../../../src/state/step-state-machine.js';
import { canTransition as canTaskTransition } from '../../../src/state/task-state-machine.js';

type AllowedMove = (from: string, to: string) => boolean;

/** One persisted transition. */
export interface TransitionRow {
  from_state: string | null;
  to_state: string;
  sort_key: number;
  most_recent: boolean;
  metadata: Record<string, unknown>;
}

/** The transitions of a set of tasks and of their steps. */
export interface Histories {
  /** Task transitions by task uuid, in sort key order. */
  tasks: Map<string, TransitionRow[]>;
  /** Step transitions by `task_uuid/step_name`, in sort key order. */
  steps: Map<string, TransitionRow[]>;
}

interface Keyed extends TransitionRow {
  key: string;
  current: string;
}

function group(rows: readonly Keyed[]): Map<string, Keyed[]> {
  const byKey = new Map<string, Keyed[]>();
  for (const row of rows) {
    const list = byKey.get(row.key) ?? [];
    list.push(row);
    byKey.set(row.key, list);
  }
  return byKey;
}

/**
 * Each row starts where the previous one ended, and every move is an edge of the state
 * machine: the SQL functions that make transitions on the hot paths are held to the same
 * table as the TypeScript code.
 */
function expectChain(
  label: string,
  rows: readonly Keyed[],
  allowed: (from: string, to: string) => boolean,
): void {
  expect(
    rows.map((row) => row.sort_key),
    `${label}: sort keys`,
  ).toEqual(rows.map((_, i) => i + 1));
  expect(rows[0]?.from_state, `${label}: first row`).toBeNull();
  rows.forEach((row, i) => {
    if (i === 0) return;
    expect(row.from_state, `${label}: row ${i + 1} from_state`).toBe(rows[i - 1]!.to_state);
    expect(
      allowed(row.from_state!, row.to_state),
      `${label}: ${row.from_state} → ${row.to_state} is an edge`,
    ).toBe(true);
  });
  expect(
    rows.map((row) => row.most_recent),
    `${label}: most_recent`,
  ).toEqual(rows.map((_, i) => i === rows.length - 1));
  const last = rows[rows.length - 1]!;
  expect(last.to_state, `${label}: last transition vs current state`).toBe(last.current);
}

function strip(rows: readonly Keyed[]): TransitionRow[] {
  return rows.map(({ from_state, to_state, sort_key, most_recent, metadata }) => ({
    from_state,
    to_state,
    sort_key,
    most_recent,
    metadata,
  }));
}

/**
 * Loads the histories of the given tasks (every task when `taskUuids` is omitted) and of
 * their steps, asserting that each one is a consistent chain.
 */
export async function expectConsistentHistories(
  db: Queryable,
  taskUuids?: readonly string[],
): Promise<Histories> {
  const filter = taskUuids ? 'WHERE t.task_uuid = ANY($1::uuid[])' : '';
  const params = taskUuids ? [taskUuids] : [];
  const taskRows = await db.query<Keyed>(
    `SELECT tt.task_uuid::text AS key, t.status AS current, tt.from_state, tt.to_state, tt.sort_key,
            tt.most_recent, tt.metadata
       FROM tasker.task_transitions tt JOIN tasker.tasks t ON t.task_uuid = tt.task_uuid
       ${filter}
      ORDER BY tt.task_uuid, tt.sort_key`,
    params,
  );
  const stepRows = await db.query<Keyed>(
    `SELECT s.task_uuid::text || '/' || s.name AS key, s.state AS current, st.from_state, st.to_state,
            st.sort_key, st.most_recent, st.metadata
       FROM tasker.step_transitions st
       JOIN tasker.workflow_steps s ON s.step_uuid = st.step_uuid
       JOIN tasker.tasks t ON t.task_uuid = s.task_uuid
       ${filter}
      ORDER BY s.step_uuid, st.sort_key`,
    params,
  );
  const tasks = group(taskRows.rows);
  const steps = group(stepRows.rows);
  if (taskUuids) expect([...tasks.keys()].sort(), 'tasks with a history').toEqual([...taskUuids].sort());
  for (const [key, rows] of tasks) expectChain(`task ${key}`, rows, canTaskTransition as AllowedMove);
  for (const [key, rows] of steps) expectChain(`step ${key}`, rows, canStepTransition as AllowedMove);
  return {
    tasks: new Map([...tasks].map(([key, rows]) => [key, strip(rows)])),
    steps: new Map([...steps].map(([key, rows]) => [key, strip(rows)])),
  };
}

/** The `to_state`s of a history, in order: the chain of states it went through. */
export function statesOf(rows: readonly TransitionRow[] | undefined): string[] {
  return (rows ?? []).map((row) => row.to_state);
}

/** Outcomes of a step's attempts, in attempt order. */
export async function attemptOutcomes(
  db: Queryable,
  taskUuid: string,
  stepName: string,
): Promise<
  Array<{ attempt: number; outcome: string; worker_id: string; error: { message?: string } | null }>
> {
  const { rows } = await db.query<{
    attempt: number;
    outcome: string;
    worker_id: string;
    error: { message?: string } | null;
  }>(
    `SELECT a.attempt, a.outcome, a.worker_id, a.error FROM tasker.step_attempts a
       JOIN tasker.workflow_steps s ON s.step_uuid = a.step_uuid
      WHERE s.task_uuid = $1 AND s.name = $2
      ORDER BY a.attempt`,
    [taskUuid, stepName],
  );
  return rows;
}

/** Polls `check` until it resolves to a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Resolves once a backend of the test database waits for another's lock: backend `pid` when
 * given, else any. Polled through `db`, outside the transactions of the test.
 */
export async function waitForLockWait(db: Queryable, pid?: number): Promise<void> {
  await eventually(
    pid === undefined ? 'a statement to wait for a lock' : `backend ${pid} to wait for a lock`,
    async () => {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND ($1::int IS NULL OR pid = $1)
            AND cardinality(pg_blocking_pids(pid)) > 0`,
        [pid ?? null],
      );
      return rows[0]!.n > 0 ? true : undefined;
    },
    10_000,
    10,
  );
}
