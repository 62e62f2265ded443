/**
 * The workflow engine as separate OS processes on the real server: `tasker orchestrator` and
 * `tasker worker` started from bin/tasker.js, tasks created from this process. Covers the
 * examples, a worker killed mid-step, two orchestrators with two workers, a graceful stop
 * and the CLI's answers to bad input. Each test gets its own database.
 */
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { waitForTask } from '../../src/api/task-finished.js';
import { createTask } from '../../src/api/tasks.js';
import type { TaskView } from '../../src/persistence/task-store.js';
import { loadTemplates } from '../../src/templates/load.js';
import type { TemplateRegistry } from '../../src/templates/registry.js';
import { RUNS_TABLE_SQL } from '../fixtures/engine/handlers.js';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../helpers/databases.js';
import { attemptOutcomes, eventually, expectConsistentHistories, statesOf } from './support/history.js';
import { killAll, ROOT, runTasker, spawnTasker, type TaskerProcess } from './support/processes.js';

const ENGINE_TEMPLATES = 'test/fixtures/engine/templates';
const ENGINE_HANDLERS = 'test/fixtures/engine/handlers.ts';
const DAG_HANDLERS = 'examples/dags/handlers.ts';
const ORDER_HANDLERS = 'examples/order_fulfillment/handlers.ts';
const N16 = '2821109907456'; // 6^16
const N64 = '63340286662973277706162286946811886609896461828096'; // 6^64
const WAIT = { timeoutMs: 150_000, pollIntervalMs: 500 };

/** Every state a step of the linear workflow goes through when nothing fails. */
const STEP_CHAIN = ['pending', 'enqueued', 'in_progress', 'enqueued_for_orchestration', 'complete'];

/** The task chain of the 4-step linear workflow: one step in flight at a time. */
const LINEAR_TASK_CHAIN = [
  'pending',
  'initializing',
  'enqueuing_steps',
  'steps_in_process',
  ...Array.from({ length: 3 }, () => ['evaluating_results', 'enqueuing_steps', 'steps_in_process']).flat(),
  'evaluating_results',
  'complete',
];

describe('workflows as separate processes on the real server', { timeout: 300_000 }, () => {
  let testDb: TestDatabase;
  let env: Record<string, string | undefined>;
  let templates: TemplateRegistry;

  beforeAll(async () => {
    templates = await loadTemplates(
      ['examples/dags/templates', 'examples/order_fulfillment/templates', ENGINE_TEMPLATES].map((dir) =>
        path.join(ROOT, dir),
      ),
    );
  });

  beforeEach(async () => {
    keepDatabaseOnFailure();
    testDb = await createTestDatabase('postgres');
    await testDb.db.exec(RUNS_TABLE_SQL);
    env = {
      DATABASE_URL: testDb.url,
      TASKER_CONFIG_ROOT: path.join(ROOT, 'test/fixtures/engine/config'),
      TASKER_ENV: undefined,
    };
  });

  afterEach(async () => {
    await killAll();
    await testDb?.dispose();
  });

  const orchestrator = (): TaskerProcess => spawnTasker(['orchestrator'], env);
  const worker = (
    namespace: string,
    handlers: string,
    extraEnv: Record<string, string> = {},
  ): TaskerProcess =>
    spawnTasker(['worker', '--namespace', namespace, '--handlers', handlers], { ...env, ...extraEnv });
  const ready = (...processes: TaskerProcess[]): Promise<void[]> =>
    Promise.all(processes.map((each) => each.waitForOutput(/running; SIGTERM/)));

  async function create(namespace: string, name: string, context: unknown): Promise<string> {
    const { taskUuid } = await createTask(testDb.db, { template: templates.get(namespace, name), context });
    return taskUuid;
  }

  function step(task: TaskView, name: string): TaskView['steps'][number] {
    const found = task.steps.find((candidate) => candidate.name === name);
    if (!found) throw new Error(`task ${task.task_uuid} has no step ${name}`);
    return found;
  }

  /** Worker ids of every attempt of a task's steps. */
  async function attemptWorkers(taskUuid: string): Promise<string[]> {
    const { rows } = await testDb.db.query<{ worker_id: string }>(
      `SELECT DISTINCT a.worker_id FROM tasker.step_attempts a JOIN tasker.workflow_steps s USING (step_uuid)
        WHERE s.task_uuid = $1`,
      [taskUuid],
    );
    return rows.map((row) => row.worker_id);
  }

  /** Steps of these tasks whose number of successful attempts is not exactly one. */
  async function stepsWithoutOneSuccess(taskUuids: readonly string[]): Promise<unknown[]> {
    const { rows } = await testDb.db.query(
      `SELECT s.task_uuid, s.name, count(a.*) FILTER (WHERE a.outcome = 'success')::int AS successes
         FROM tasker.workflow_steps s LEFT JOIN tasker.step_attempts a USING (step_uuid)
        WHERE s.task_uuid = ANY($1::uuid[])
        GROUP BY s.task_uuid, s.name
       HAVING count(a.*) FILTER (WHERE a.outcome = 'success') <> 1`,
      [taskUuids],
    );
    return rows;
  }

  it('runs the examples with the orchestrator and the workers in their own processes', async () => {
    const processes = [
      orchestrator(),
      worker('dag_examples', DAG_HANDLERS),
      worker('fulfillment', ORDER_HANDLERS),
    ];
    await ready(...processes);
    const [, dagWorker, orderWorker] = processes as [TaskerProcess, TaskerProcess, TaskerProcess];
    const dags: Array<[string, string, string]> = [
      ['linear_workflow', 'linear_step_4', N16],
      ['diamond_workflow', 'diamond_end', N16],
      ['tree_workflow', 'tree_final_convergence', N64],
      ['mixed_dag_workflow', 'dag_finalize', N64],
    ];
    const dagTasks = await Promise.all(
      dags.map(([name]) => create('dag_examples', name, { even_number: 6 })),
    );
    const orderTask = await create('fulfillment', 'fulfill_order', {
      order_id: 'ord-2002',
      customer_id: 'cus-9',
      items: [{ sku: 'WIDGET-1', quantity: 3, unit_price: 2.5 }],
    });

    for (const [i, [, last, expected]] of dags.entries()) {
      const task = await waitForTask(testDb.db, dagTasks[i]!, WAIT);
      expect([task.name, task.status]).toEqual([dags[i]![0], 'complete']);
      expect(step(task, last).result).toEqual({ value: expected });
      expect(await attemptWorkers(task.task_uuid)).toEqual([
        expect.stringMatching(new RegExp(`-${dagWorker.pid}$`)),
      ]);
    }
    const order = await waitForTask(testDb.db, orderTask, WAIT);
    expect(order.status).toBe('complete');
    expect(step(order, 'validate_order').result).toEqual({ order_id: 'ord-2002', total: 7.5, item_count: 1 });
    expect(step(order, 'ship_order').result).toMatchObject({ carrier: 'demo-carrier' });
    expect(await attemptWorkers(orderTask)).toEqual([
      expect.stringMatching(new RegExp(`-${orderWorker.pid}$`)),
    ]);

    const all = [...dagTasks, orderTask];
    expect(await stepsWithoutOneSuccess(all)).toEqual([]);
    await expectConsistentHistories(testDb.db, all);
  });

  it('completes a task whose worker was killed with SIGKILL mid-step', async () => {
    const first = worker('engine_test', ENGINE_HANDLERS);
    await ready(orchestrator(), first);
    const taskUuid = await create('engine_test', 'lost_worker', {});
    const { rows } = await testDb.db.query<{ step_uuid: string }>(
      `SELECT step_uuid FROM tasker.workflow_steps WHERE task_uuid = $1 AND name = 'crashy'`,
      [taskUuid],
    );
    const crashy = rows[0]!.step_uuid;
    // The handler inserts this row, then hangs its worker on attempt 1.
    await eventually(
      'attempt 1 of crashy to start',
      async () => {
        const runs = await testDb.db.query(
          'SELECT 1 FROM engine_test_runs WHERE step_uuid = $1 AND attempt = 1',
          [crashy],
        );
        return runs.rows.length > 0 ? true : undefined;
      },
      120_000,
    );
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

    const second = worker('engine_test', ENGINE_HANDLERS);
    const task = await waitForTask(testDb.db, taskUuid, WAIT);
    expect(task.status).toBe('complete');
    expect(step(task, 'crashy')).toMatchObject({ state: 'complete', attempts: 2, result: { attempt: 2 } });
    expect(step(task, 'after_crash').result).toMatchObject({ dependencies: { crashy: { attempt: 2 } } });

    const attempts = await attemptOutcomes(testDb.db, taskUuid, 'crashy');
    expect(attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'lost'],
      [2, 'success'],
    ]);
    expect(attempts[0]!.worker_id).toMatch(new RegExp(`-${first.pid}$`));
    expect(attempts[0]!.error?.message).toMatch(/attempt 1 was lost/);
    expect(attempts[1]!.worker_id).toMatch(new RegExp(`-${second.pid}$`));
    expect(await stepsWithoutOneSuccess([taskUuid])).toEqual([]);
    const runs = await testDb.db.query<{ attempt: number }>(
      'SELECT attempt FROM engine_test_runs WHERE step_uuid = $1 ORDER BY attempt',
      [crashy],
    );
    expect(runs.rows.map((row) => row.attempt)).toEqual([1, 2]);

    const { steps } = await expectConsistentHistories(testDb.db, [taskUuid]);
    const history = steps.get(`${taskUuid}/crashy`)!;
    expect(statesOf(history)).toEqual([
      'pending',
      'enqueued',
      'in_progress',
      'enqueued_as_error_for_orchestration',
      'waiting_for_retry',
      'enqueued',
      'in_progress',
      'enqueued_for_orchestration',
      'complete',
    ]);
    expect(history[3]!.metadata).toMatchObject({ attempt: 1, lost: true });
  });

  // Workers orchestrate the results of tasks nobody else holds (worker.orchestrate_results);
  // with it off, every result goes through the orchestrators' queue.
  it.each([
    { mode: 'workers orchestrating results', orchestrateResults: 'true' },
    { mode: 'every result through the orchestrators', orchestrateResults: 'false' },
  ])(
    'completes 200 tasks with two orchestrators and two workers, without duplicate transitions ($mode)',
    async ({ orchestrateResults }) => {
      const workerEnv = { TASKER__WORKER__ORCHESTRATE_RESULTS: orchestrateResults };
      const processes = [
        orchestrator(),
        orchestrator(),
        worker('dag_examples', DAG_HANDLERS, workerEnv),
        worker('dag_examples', DAG_HANDLERS, workerEnv),
      ];
      await ready(...processes);
      const numbers = Array.from({ length: 200 }, (_, i) => 2 * ((i % 5) + 1));
      const taskUuids: string[] = [];
      for (let i = 0; i < numbers.length; i += 20) {
        const batch = numbers.slice(i, i + 20);
        taskUuids.push(
          ...(await Promise.all(
            batch.map((n) => create('dag_examples', 'linear_workflow', { even_number: n })),
          )),
        );
      }
      await eventually(
        'all 200 tasks to finish',
        async () => {
          const { rows } = await testDb.db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM tasker.tasks
            WHERE status IN ('complete', 'error', 'cancelled', 'resolved_manually')`,
          );
          return rows[0]!.n === taskUuids.length ? true : undefined;
        },
        240_000,
        500,
      );

      const { rows: results } = await testDb.db.query<{
        task_uuid: string;
        status: string;
        n: number;
        value: string;
      }>(
        `SELECT t.task_uuid, t.status, (t.context->>'even_number')::int AS n, s.result->>'value' AS value
         FROM tasker.tasks t JOIN tasker.workflow_steps s ON s.task_uuid = t.task_uuid AND s.name = 'linear_step_4'`,
      );
      expect(results).toHaveLength(200);
      for (const row of results) {
        expect([row.status, row.value]).toEqual(['complete', (BigInt(row.n) ** 16n).toString()]);
      }

      const { tasks, steps } = await expectConsistentHistories(testDb.db, taskUuids);
      for (const [taskUuid, history] of tasks)
        expect([taskUuid, statesOf(history)]).toEqual([taskUuid, LINEAR_TASK_CHAIN]);
      expect(steps.size).toBe(800);
      for (const [key, history] of steps) expect([key, statesOf(history)]).toEqual([key, STEP_CHAIN]);

      const { rows: attempts } = await testDb.db.query<{ outcome: string; attempt: number; n: number }>(
        'SELECT outcome, attempt, count(*)::int AS n FROM tasker.step_attempts GROUP BY outcome, attempt',
      );
      expect(attempts).toEqual([{ outcome: 'success', attempt: 1, n: 800 }]);
      expect(await stepsWithoutOneSuccess(taskUuids)).toEqual([]);
      // Every message was sent once and consumed: no step attempt was enqueued twice. A result
      // went through the orchestrators' queue unless its worker orchestrated it.
      const { rows: queues } = await testDb.db.query<{
        requests: number;
        steps: number;
        results: number;
        unconsumed: number;
      }>(
        `SELECT (SELECT count(*) FROM pgmq.a_orchestration_task_requests)::int AS requests,
              (SELECT count(*) FROM pgmq.a_worker_dag_examples_queue)::int AS steps,
              (SELECT count(*) FROM pgmq.a_orchestration_step_results)::int AS results,
              (SELECT count(*) FROM pgmq.q_orchestration_task_requests)::int
                + (SELECT count(*) FROM pgmq.q_worker_dag_examples_queue)::int
                + (SELECT count(*) FROM pgmq.q_orchestration_step_results)::int AS unconsumed`,
      );
      const { results: queued, ...rest } = queues[0]!;
      expect(rest).toEqual({ requests: 200, steps: 800, unconsumed: 0 });
      if (orchestrateResults === 'false') expect(queued).toBe(800);
      else expect(queued).toBeLessThan(800);
    },
  );

  it('finishes the step in hand and exits 0 on SIGTERM', async () => {
    const stopping = worker('engine_test', ENGINE_HANDLERS);
    await ready(orchestrator(), stopping);
    const taskUuid = await create('engine_test', 'graceful_stop', {});
    await eventually('the unhurried step to start', async () => {
      const { rows } = await testDb.db.query(
        `SELECT 1 FROM engine_test_runs r JOIN tasker.workflow_steps s USING (step_uuid) WHERE s.task_uuid = $1`,
        [taskUuid],
      );
      return rows.length > 0 ? true : undefined;
    });
    const { rows: clock } = await testDb.db.query<{ now: Date }>('SELECT now() AS now');
    stopping.child.kill('SIGTERM');
    expect(await stopping.exited).toEqual({ code: 0, signal: null });
    expect(stopping.stderr()).toMatch(/worker: SIGTERM, finishing work in hand/);

    const task = await waitForTask(testDb.db, taskUuid, WAIT);
    expect(task.status).toBe('complete');
    expect(step(task, 'unhurried')).toMatchObject({ state: 'complete', attempts: 1, result: { attempt: 1 } });
    expect((await attemptOutcomes(testDb.db, taskUuid, 'unhurried')).map((a) => a.outcome)).toEqual([
      'success',
    ]);
    // The attempt was in hand at the signal: it finished after it.
    const { rows: finished } = await testDb.db.query<{ after: boolean }>(
      `SELECT a.finished_at > $2 AS after FROM tasker.step_attempts a JOIN tasker.workflow_steps s USING (step_uuid)
        WHERE s.task_uuid = $1`,
      [taskUuid, clock[0]!.now],
    );
    expect(finished).toEqual([{ after: true }]);
    await expectConsistentHistories(testDb.db, [taskUuid]);
  });

  describe('bad input on the command line', () => {
    const taskCount = async (): Promise<number> =>
      (await testDb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM tasker.tasks')).rows[0]!.n;

    it('refuses to start a worker whose module lacks a handler the templates need', async () => {
      const { code, stderr } = await runTasker(
        ['worker', '--namespace', 'engine_test', '--handlers', DAG_HANDLERS, '--templates', ENGINE_TEMPLATES],
        env,
      );
      expect(code).toBe(1);
      expect(stderr.trim().split('\n')).toEqual([
        expect.stringMatching(
          /^tasker: examples\/dags\/handlers\.ts does not export handlers EngineTest::\w+.*\(it has: Dags::SquareContext, Dags::SquareParent, Dags::MultiplyParentsThenSquare\)$/,
        ),
      ]);
    });

    it('refuses a malformed --context for tasker run without creating anything', async () => {
      const { code, stdout, stderr } = await runTasker(
        [
          'run',
          ENGINE_TEMPLATES,
          '--handlers',
          ENGINE_HANDLERS,
          '--task',
          'engine_test/echo_context',
          '--context',
          '{"message": ',
        ],
        env,
      );
      expect([1, 2]).toContain(code);
      expect(stdout).toBe('');
      expect(stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/^tasker: --context is not valid JSON: /),
      ]);
      expect(await taskCount()).toBe(0);
    });

    it('refuses a context failing the input schema and an unknown template', async () => {
      const invalid = await runTasker(
        [
          'task',
          'create',
          ENGINE_TEMPLATES,
          '--task',
          'engine_test/echo_context',
          '--context',
          '{"message": 7}',
        ],
        env,
      );
      expect(invalid.code).toBe(1);
      expect(invalid.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(
          /^tasker: task context does not match the input_schema of engine_test\/echo_context@1\.0\.0/,
        ),
      ]);
      const unknown = await runTasker(
        ['task', 'create', ENGINE_TEMPLATES, '--task', 'engine_test/echo_context@2.0.0', '--context', '{}'],
        env,
      );
      expect(unknown.code).toBe(1);
      expect(unknown.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(
          /^tasker: no template engine_test\/echo_context@2\.0\.0 \(versions: 1\.0\.0\)$/,
        ),
      ]);
      expect(await taskCount()).toBe(0);
    });

    it('refuses to show a task by something that is not a uuid', async () => {
      const { code, stdout, stderr } = await runTasker(['task', 'show', 'not-a-uuid'], env);
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(stderr.trim()).toBe('tasker: not a task uuid: "not-a-uuid"');
    });

    it('prints the failed task and exits 1 when tasker run does not complete it', async () => {
      const { code, stdout } = await runTasker(
        [
          'run',
          ENGINE_TEMPLATES,
          '--handlers',
          ENGINE_HANDLERS,
          '--task',
          'engine_test/permanent_failure',
          '--json',
        ],
        env,
      );
      expect(code).toBe(1);
      const task = JSON.parse(stdout) as TaskView;
      expect(task).toMatchObject({ namespace: 'engine_test', name: 'permanent_failure', status: 'error' });
      expect(task.steps).toEqual([
        {
          name: 'refuse',
          state: 'error',
          attempts: 1,
          result: null,
          error: { name: 'PermanentError', message: 'refused for good', permanent: true },
        },
      ]);
    });
  });
});
