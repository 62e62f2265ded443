/**
 * The workflow engine end to end in one process: an orchestrator and a worker started with
 * startEngine against each database kind, running the examples and the engine_test
 * templates through success, retry, failure, timeout, cancellation and manual resolution.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cancelTask, resolveStep } from '../../src/api/manual-actions.js';
import { waitForTask } from '../../src/api/task-finished.js';
import { createTask } from '../../src/api/tasks.js';
import { loadConfig } from '../../src/config/load.js';
import { startEngine, type Engine } from '../../src/engine/local-engine.js';
import type { TaskView } from '../../src/persistence/task-store.js';
import { loadTemplates } from '../../src/templates/load.js';
import type { TemplateRegistry } from '../../src/templates/registry.js';
import { enqueueDueRetries } from '../../src/orchestration/retry-scanner.js';
import { loadHandlerModule, type HandlerModule } from '../../src/worker/handler-module.js';
import type { ClaimedStep } from '../../src/worker/step-claim.js';
import type { AttemptOutcome } from '../../src/worker/step-report.js';
import {
  createTestDatabase,
  DATABASE_KINDS,
  keepDatabaseOnFailure,
  type TestDatabase,
} from '../helpers/databases.js';
import { attemptOutcomes, eventually, expectConsistentHistories, statesOf } from './support/history.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const at = (...parts: string[]): string => path.join(ROOT, ...parts);

const TEMPLATE_DIRS = [
  at('examples/dags/templates'),
  at('examples/order_fulfillment/templates'),
  at('test/fixtures/engine/templates'),
];
const HANDLER_MODULES = [
  at('examples/dags/handlers.ts'),
  at('examples/order_fulfillment/handlers.ts'),
  at('test/fixtures/engine/handlers.ts'),
];

const N16 = '2821109907456'; // 6^16
const N64 = '63340286662973277706162286946811886609896461828096'; // 6^64

/** One worker runs every namespace of the test, so the modules are merged into one. */
function mergeModules(modules: readonly HandlerModule[]): HandlerModule {
  return {
    handlers: new Map(modules.flatMap((module) => [...module.handlers])),
    subscribers: modules.flatMap((module) => module.subscribers),
    source: modules.map((module) => module.source).join(' + '),
    exports: Object.assign({}, ...modules.map((module) => module.exports)) as Record<string, unknown>,
  };
}

function step(task: TaskView, name: string): TaskView['steps'][number] {
  const found = task.steps.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`task ${task.task_uuid} has no step ${name}`);
  return found;
}

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

const ORDER = {
  order_id: 'ord-1001',
  customer_id: 'cus-7',
  items: [
    { sku: 'WIDGET-1', quantity: 2, unit_price: 9.5 },
    { sku: 'GADGET-2', quantity: 1, unit_price: 20 },
  ],
};

describe.each(DATABASE_KINDS)('workflows in one process on %s', { timeout: 180_000 }, (kind) => {
  let testDb: TestDatabase;
  let engine: Engine | undefined;
  let templates: TemplateRegistry;
  const finishedAttempts: Array<{ step: ClaimedStep; outcome: AttemptOutcome; reported: boolean }> = [];

  beforeAll(async () => {
    testDb = await createTestDatabase(kind);
    const config = await loadConfig({ root: at('test/fixtures/engine/config'), environ: {} });
    templates = await loadTemplates(TEMPLATE_DIRS);
    const module = mergeModules(await Promise.all(HANDLER_MODULES.map((file) => loadHandlerModule(file))));
    engine = await startEngine({
      db: testDb.db,
      config,
      orchestrator: true,
      worker: { namespaces: templates.namespaces(), module },
      stepObserver: {
        attemptFinished: (claimed, outcome, reported) =>
          finishedAttempts.push({ step: claimed, outcome, reported }),
      },
      id: `engine-test-${kind}`,
    });
  }, 120_000);

  afterAll(async () => {
    await engine?.stop();
    await testDb?.dispose();
  });

  beforeEach(() => keepDatabaseOnFailure());

  async function create(
    name: string,
    context: unknown,
    options: { namespace?: string; correlationId?: string; idempotencyKey?: string } = {},
  ): Promise<string> {
    const template = templates.get(options.namespace ?? 'engine_test', name);
    const { taskUuid } = await createTask(testDb.db, {
      template,
      context,
      ...(options.correlationId ? { correlationId: options.correlationId } : {}),
      ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
    });
    return taskUuid;
  }

  async function run(name: string, context: unknown, namespace = 'engine_test'): Promise<TaskView> {
    const taskUuid = await create(name, context, { namespace });
    return waitForTask(testDb.db, taskUuid, { timeoutMs: 90_000, pollIntervalMs: 250 });
  }

  async function stepState(taskUuid: string, name: string): Promise<{ state: string; task: string }> {
    const { rows } = await testDb.db.query<{ state: string; task: string }>(
      `SELECT s.state, t.status AS task FROM tasker.workflow_steps s JOIN tasker.tasks t USING (task_uuid)
        WHERE s.task_uuid = $1 AND s.name = $2`,
      [taskUuid, name],
    );
    return rows[0]!;
  }

  it.each([
    ['linear_workflow', 'linear_step_4', N16],
    ['diamond_workflow', 'diamond_end', N16],
    ['tree_workflow', 'tree_final_convergence', N64],
    ['mixed_dag_workflow', 'dag_finalize', N64],
  ])('runs the %s example to its exact BigInt result', async (name, last, expected) => {
    const task = await run(name, { even_number: 6 }, 'dag_examples');
    expect(task.status).toBe('complete');
    expect(step(task, last).result).toEqual({ value: expected });
    for (const each of task.steps)
      expect([each.name, each.state, each.attempts]).toEqual([each.name, 'complete', 1]);
    const { tasks } = await expectConsistentHistories(testDb.db, [task.task_uuid]);
    expect(statesOf(tasks.get(task.task_uuid)).at(-1)).toBe('complete');
  });

  it('runs the order fulfillment example', async () => {
    const task = await run('fulfill_order', ORDER, 'fulfillment');
    expect(task.status).toBe('complete');
    expect(step(task, 'validate_order').result).toEqual({ order_id: 'ord-1001', total: 39, item_count: 2 });
    const reservation = step(task, 'reserve_inventory').result as { reservation_id: string };
    expect(reservation.reservation_id).toMatch(/^res_[0-9a-f]{12}$/);
    expect(reservation).toMatchObject({
      reserved: [
        { sku: 'WIDGET-1', quantity: 2 },
        { sku: 'GADGET-2', quantity: 1 },
      ],
    });
    expect(step(task, 'process_payment').result).toMatchObject({ amount: 39, status: 'captured' });
    expect(step(task, 'ship_order').result).toMatchObject({ carrier: 'demo-carrier' });
    await expectConsistentHistories(testDb.db, [task.task_uuid]);
  });

  it('fails an order whose stock is short without charging it', async () => {
    const task = await run(
      'fulfill_order',
      { ...ORDER, items: [{ sku: 'GIZMO-3', quantity: 50, unit_price: 1 }] },
      'fulfillment',
    );
    expect(task.status).toBe('error');
    expect(step(task, 'reserve_inventory')).toMatchObject({ state: 'error', attempts: 1 });
    expect(step(task, 'reserve_inventory').error).toMatchObject({ permanent: true });
    expect(step(task, 'process_payment')).toMatchObject({ state: 'pending', attempts: 0 });
    await expectConsistentHistories(testDb.db, [task.task_uuid]);
  });

  it('hands each step the task context, its identity and its parents’ results', async () => {
    const taskUuid = await create('echo_context', { message: 'hello' }, { correlationId: 'corr-42' });
    const task = await waitForTask(testDb.db, taskUuid, { timeoutMs: 90_000 });
    expect(task.status).toBe('complete');
    expect(task.correlation_id).toBe('corr-42');
    const first = step(task, 'first').result;
    expect(first).toEqual({
      context: { message: 'hello' },
      dependencies: {},
      step: { name: 'first', attempt: 1 },
      task: {
        uuid: taskUuid,
        namespace: 'engine_test',
        name: 'echo_context',
        version: '1.0.0',
        correlationId: 'corr-42',
      },
    });
    expect(step(task, 'second').result).toMatchObject({
      dependencies: { first },
      step: { name: 'second', attempt: 1 },
    });
  });

  it('retries a step that failed once, counting the attempt', async () => {
    const task = await run('retry_once', {});
    expect(task.status).toBe('complete');
    expect(step(task, 'flaky')).toMatchObject({
      state: 'complete',
      attempts: 2,
      result: { succeeded_on_attempt: 2 },
    });
    expect(step(task, 'after_flaky').result).toMatchObject({
      dependencies: { flaky: { succeeded_on_attempt: 2 } },
    });
    expect(
      (await attemptOutcomes(testDb.db, task.task_uuid, 'flaky')).map((a) => [a.attempt, a.outcome]),
    ).toEqual([
      [1, 'failure'],
      [2, 'success'],
    ]);
    const { tasks, steps } = await expectConsistentHistories(testDb.db, [task.task_uuid]);
    expect(statesOf(steps.get(`${task.task_uuid}/flaky`))).toEqual([
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
    expect(statesOf(tasks.get(task.task_uuid))).toContain('waiting_for_retry');
  });

  it('fails the step and the task once the attempts are exhausted', async () => {
    const task = await run('always_fail', {});
    expect(task.status).toBe('error');
    expect(step(task, 'doomed')).toMatchObject({
      state: 'error',
      attempts: 3,
      error: { message: 'attempt 3 fails on purpose', permanent: false },
    });
    expect(step(task, 'never_runs')).toMatchObject({ state: 'pending', attempts: 0 });
    expect((await attemptOutcomes(testDb.db, task.task_uuid, 'doomed')).map((a) => a.outcome)).toEqual([
      'failure',
      'failure',
      'failure',
    ]);
    const { tasks, steps } = await expectConsistentHistories(testDb.db, [task.task_uuid]);
    expect(statesOf(tasks.get(task.task_uuid)).slice(-2)).toEqual(['blocked_by_failures', 'error']);
    const doomed = statesOf(steps.get(`${task.task_uuid}/doomed`));
    expect(doomed.filter((state) => state === 'waiting_for_retry')).toHaveLength(2);
    expect(doomed.at(-1)).toBe('error');
  });

  it('ends a task whose step failed for good while a sibling waits for its retry', async () => {
    const task = await run('fail_beside_retry', {});
    expect(task.status).toBe('error');
    expect(step(task, 'refuse')).toMatchObject({ state: 'error', attempts: 1 });
    expect(step(task, 'retry_later')).toMatchObject({ state: 'waiting_for_retry', attempts: 1 });
    // Fast-forward the clock of the retry: the scanners must leave the finished task alone.
    await testDb.db.query(
      `UPDATE tasker.workflow_steps SET next_attempt_at = now() - interval '1 hour'
        WHERE task_uuid = $1 AND name = 'retry_later'`,
      [task.task_uuid],
    );
    const scanned = await enqueueDueRetries(testDb.db);
    expect(scanned.map((entry) => entry.taskUuid)).not.toContain(task.task_uuid);
    const after = await waitForTask(testDb.db, task.task_uuid);
    expect(after).toEqual(task);
    const { tasks } = await expectConsistentHistories(testDb.db, [task.task_uuid]);
    expect(statesOf(tasks.get(task.task_uuid)).slice(-2)).toEqual(['blocked_by_failures', 'error']);
  });

  it('does not retry a PermanentError', async () => {
    const task = await run('permanent_failure', {});
    expect(task.status).toBe('error');
    expect(step(task, 'refuse')).toMatchObject({
      state: 'error',
      attempts: 1,
      error: { name: 'PermanentError', message: 'refused for good', permanent: true },
    });
    const { steps } = await expectConsistentHistories(testDb.db, [task.task_uuid]);
    expect(statesOf(steps.get(`${task.task_uuid}/refuse`))).not.toContain('waiting_for_retry');
  });

  it('stores a clear error for a result that is not JSON-serialisable', async () => {
    const task = await run('bigint_result', {});
    expect(task.status).toBe('error');
    const big = step(task, 'big');
    expect(big).toMatchObject({ state: 'error', attempts: 1, result: null });
    expect(big.error).toMatchObject({ name: 'ResultNotSerialisable', permanent: true });
    expect((big.error as { message: string }).message).toMatch(
      /step big returned a value that is not JSON-serialisable.*BigInt/,
    );
  });

  it('fails a step that runs past its timeout', async () => {
    const task = await run('step_timeout', {});
    expect(task.status).toBe('error');
    const sleepy = step(task, 'sleepy');
    expect(sleepy).toMatchObject({ state: 'error', attempts: 1 });
    expect((sleepy.error as { message: string }).message).toMatch(/timed out after 1s/);
  });

  it('cancels a running task and discards the late result of its step', async () => {
    const taskUuid = await create('slow_step', {});
    await eventually('the slow step to start', async () =>
      (await stepState(taskUuid, 'slow')).state === 'in_progress' ? true : undefined,
    );
    await cancelTask(testDb.db, taskUuid, { reason: 'test', actor: 'vitest' });
    const task = await waitForTask(testDb.db, taskUuid, { timeoutMs: 10_000 });
    expect(task.status).toBe('cancelled');
    expect(task.steps.map((s) => [s.name, s.state])).toEqual([
      ['slow', 'cancelled'],
      ['after_slow', 'cancelled'],
    ]);
    // The handler goes on; its report must not change the cancelled step.
    const late = await eventually('the slow attempt to finish', () =>
      Promise.resolve(finishedAttempts.find((entry) => entry.step.task_uuid === taskUuid)),
    );
    expect(late.reported).toBe(false);
    expect(late.outcome.ok).toBe(true);
    const after = await waitForTask(testDb.db, taskUuid);
    expect(after.steps.map((s) => s.state)).toEqual(['cancelled', 'cancelled']);
    const { tasks } = await expectConsistentHistories(testDb.db, [taskUuid]);
    const last = tasks.get(taskUuid)!.at(-1)!;
    expect(last).toMatchObject({
      to_state: 'cancelled',
      metadata: { manual: true, reason: 'test', actor: 'vitest' },
    });
    await expect(cancelTask(testDb.db, taskUuid)).rejects.toMatchObject({ code: 'STATE_CONFLICT' });
  });

  it('lets a task complete once its step waiting for a retry is resolved by hand', async () => {
    const taskUuid = await create('resolve_after_retry', {});
    await eventually('the stuck step to wait for its retry', async () =>
      (await stepState(taskUuid, 'stuck')).state === 'waiting_for_retry' ? true : undefined,
    );
    await resolveStep(testDb.db, taskUuid, 'stuck', { value: 'by hand' }, { reason: 'test' });
    const task = await waitForTask(testDb.db, taskUuid, { timeoutMs: 90_000 });
    expect(task.status).toBe('complete');
    expect(step(task, 'stuck')).toMatchObject({
      state: 'resolved_manually',
      attempts: 1,
      result: { value: 'by hand' },
    });
    expect(step(task, 'after_stuck').result).toMatchObject({ dependencies: { stuck: { value: 'by hand' } } });
    const { steps } = await expectConsistentHistories(testDb.db, [taskUuid]);
    expect(steps.get(`${taskUuid}/stuck`)!.at(-1)).toMatchObject({
      from_state: 'waiting_for_retry',
      to_state: 'resolved_manually',
      metadata: { manual: true, reason: 'test' },
    });
  });

  it('returns the same task for the same idempotency key', async () => {
    const key = `key-${randomUUID()}`;
    const template = templates.get('engine_test', 'echo_context');
    const first = await createTask(testDb.db, {
      template,
      context: { message: 'once' },
      idempotencyKey: key,
    });
    const second = await createTask(testDb.db, {
      template,
      context: { message: 'twice' },
      idempotencyKey: key,
    });
    expect(first.created).toBe(true);
    expect(second).toEqual({ taskUuid: first.taskUuid, created: false });
    const { rows } = await testDb.db.query<{ context: unknown }>(
      'SELECT context FROM tasker.tasks WHERE idempotency_key = $1',
      [key],
    );
    expect(rows).toEqual([{ context: { message: 'once' } }]);
    const task = await waitForTask(testDb.db, first.taskUuid, { timeoutMs: 90_000 });
    expect(task.status).toBe('complete');
  });

  it('refuses a context that fails the input schema and stores nothing', async () => {
    const count = async (): Promise<number> =>
      (await testDb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM tasker.tasks')).rows[0]!.n;
    const before = await count();
    const template = templates.get('engine_test', 'echo_context');
    for (const context of [{}, { message: 42 }, 'not an object']) {
      const error = await createTask(testDb.db, { template, context }).then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toMatchObject({ code: 'CONTEXT_INVALID' });
      expect((error as Error).message).toContain(
        'does not match the input_schema of engine_test/echo_context@1.0.0',
      );
    }
    expect(await count()).toBe(before);
  });

  it('refuses an unknown template or version', () => {
    const unknownName = thrownBy(() => templates.get('engine_test', 'no_such_template'));
    expect(unknownName).toMatchObject({ code: 'TEMPLATE_NOT_FOUND' });
    expect((unknownName as Error).message).toContain('no template engine_test/no_such_template');
    const unknownVersion = thrownBy(() => templates.get('engine_test', 'echo_context', '9.9.9'));
    expect(unknownVersion).toMatchObject({ code: 'TEMPLATE_NOT_FOUND' });
    expect((unknownVersion as Error).message).toContain(
      'no template engine_test/echo_context@9.9.9 (versions: 1.0.0)',
    );
    expect(thrownBy(() => templates.get('no_such_namespace', 'echo_context'))).toMatchObject({
      code: 'TEMPLATE_NOT_FOUND',
    });
  });

  it('leaves every persisted history consistent', async () => {
    const { tasks } = await expectConsistentHistories(testDb.db);
    expect(tasks.size).toBeGreaterThan(10);
  });
});
