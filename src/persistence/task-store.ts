import type { Queryable } from '../db/database.js';
import { uuidv7 } from '../ids/uuid-v7.js';
import type { TaskTemplate } from '../templates/types.js';

/** One step as `tasker task show --json` prints it (DESIGN.md). */
export interface StepView {
  name: string;
  state: string;
  attempts: number;
  result: unknown;
  error: unknown;
}

/** A task as `--json` prints it (DESIGN.md contract: never rename these fields). */
export interface TaskView {
  task_uuid: string;
  namespace: string;
  name: string;
  version: string;
  status: string;
  correlation_id: string;
  steps: StepView[];
}

/** What a new task is made of, after its context passed the template's input schema. */
export interface NewTask {
  template: TaskTemplate;
  context: unknown;
  correlationId?: string;
  idempotencyKey?: string;
  /** True when this template is known to be stored already (skips the upsert). */
  templateStored?: boolean;
  /** W3C traceparent of the task's span, and of its creator's span when there is one. */
  traceparent?: string;
  parentTraceparent?: string;
}

/** Records the template a task runs, so workers (event declarations) and operators can see it. */
async function upsertTemplate(tx: Queryable, template: TaskTemplate): Promise<void> {
  await tx.query('INSERT INTO tasker.namespaces (name) VALUES ($1) ON CONFLICT DO NOTHING', [
    template.namespace,
  ]);
  const { source: _source, ...definition } = template;
  await tx.query(
    `INSERT INTO tasker.named_templates (namespace, name, version, definition)
     VALUES ($1, $2, $3, $4::jsonb)
     ON CONFLICT (namespace, name, version)
     DO UPDATE SET definition = EXCLUDED.definition, updated_at = now()
     WHERE tasker.named_templates.definition IS DISTINCT FROM EXCLUDED.definition`,
    [template.namespace, template.name, template.version, JSON.stringify(definition)],
  );
}

/**
 * Inserts a task with its whole DAG (steps, edges, first transitions) in the caller's
 * transaction, so a task is either fully there or not at all. Resolves to the task uuid and
 * whether it is new (false when the idempotency key named an existing task).
 */
export async function insertTask(
  tx: Queryable,
  input: NewTask,
): Promise<{ taskUuid: string; created: boolean }> {
  const { template } = input;
  if (input.idempotencyKey !== undefined) {
    const existing = await tx.query<{ task_uuid: string }>(
      'SELECT task_uuid FROM tasker.tasks WHERE idempotency_key = $1',
      [input.idempotencyKey],
    );
    if (existing.rows[0]) return { taskUuid: existing.rows[0].task_uuid, created: false };
  }
  if (!input.templateStored) await upsertTemplate(tx, template);
  const taskUuid = uuidv7();
  const inserted = await tx.query(
    `INSERT INTO tasker.tasks (task_uuid, namespace, name, version, context, status, correlation_id, idempotency_key,
                               traceparent, parent_traceparent)
     VALUES ($1, $2, $3, $4, $5::jsonb, 'pending', $6, $7, $8, $9)
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [
      taskUuid,
      template.namespace,
      template.name,
      template.version,
      JSON.stringify(input.context ?? {}),
      input.correlationId ?? taskUuid,
      input.idempotencyKey ?? null,
      input.traceparent ?? null,
      input.parentTraceparent ?? null,
    ],
  );
  if (inserted.rowCount === 0) {
    // Another creator with the same idempotency key committed first.
    const { rows } = await tx.query<{ task_uuid: string }>(
      'SELECT task_uuid FROM tasker.tasks WHERE idempotency_key = $1',
      [input.idempotencyKey],
    );
    return { taskUuid: rows[0]!.task_uuid, created: false };
  }
  await tx.query(
    `INSERT INTO tasker.task_transitions (task_uuid, from_state, to_state, sort_key, most_recent)
     VALUES ($1, NULL, 'pending', 1, true)`,
    [taskUuid],
  );

  const stepUuids = new Map(template.steps.map((step) => [step.name, uuidv7()]));
  const steps = template.steps.map((step, position) => ({
    step_uuid: stepUuids.get(step.name),
    name: step.name,
    position,
    handler_callable: step.handler.callable,
    handler_initialization: step.handler.initialization,
    retryable: step.retry.retryable,
    max_attempts: step.retry.maxAttempts,
    backoff: step.retry.backoff,
    backoff_base_ms: step.retry.backoffBaseMs,
    max_backoff_ms: step.retry.maxBackoffMs,
    timeout_seconds: step.timeoutSeconds,
  }));
  // One statement for all steps: a DAG of any size costs the same round trips.
  await tx.query(
    `INSERT INTO tasker.workflow_steps
       (step_uuid, task_uuid, name, position, handler_callable, handler_initialization, retryable,
        max_attempts, backoff, backoff_base_ms, max_backoff_ms, timeout_seconds, state)
     SELECT s.step_uuid, $1, s.name, s.position, s.handler_callable, s.handler_initialization, s.retryable,
            s.max_attempts, s.backoff, s.backoff_base_ms, s.max_backoff_ms, s.timeout_seconds, 'pending'
       FROM jsonb_to_recordset($2::jsonb) AS s(
         step_uuid uuid, name text, position integer, handler_callable text, handler_initialization jsonb,
         retryable boolean, max_attempts integer, backoff text, backoff_base_ms integer,
         max_backoff_ms integer, timeout_seconds integer)`,
    [taskUuid, JSON.stringify(steps)],
  );
  await tx.query(
    `INSERT INTO tasker.step_transitions (step_uuid, task_uuid, from_state, to_state, sort_key, most_recent)
     SELECT step_uuid, task_uuid, NULL, 'pending', 1, true FROM tasker.workflow_steps WHERE task_uuid = $1`,
    [taskUuid],
  );
  const edges = template.steps.flatMap((step) =>
    step.dependencies.map((parent) => ({ from: stepUuids.get(parent), to: stepUuids.get(step.name) })),
  );
  if (edges.length > 0) {
    await tx.query(
      `INSERT INTO tasker.workflow_step_edges (task_uuid, from_step_uuid, to_step_uuid)
       SELECT $1, e."from", e."to" FROM jsonb_to_recordset($2::jsonb) AS e("from" uuid, "to" uuid)`,
      [taskUuid, JSON.stringify(edges)],
    );
  }
  return { taskUuid, created: true };
}

interface TaskRow {
  task_uuid: string;
  namespace: string;
  name: string;
  version: string;
  status: string;
  correlation_id: string;
}

/** The task and its steps in template order, or undefined when there is no such task. */
export async function loadTaskView(db: Queryable, taskUuid: string): Promise<TaskView | undefined> {
  const task = await db.query<TaskRow>(
    `SELECT task_uuid, namespace, name, version, status, correlation_id FROM tasker.tasks WHERE task_uuid = $1`,
    [taskUuid],
  );
  const row = task.rows[0];
  if (!row) return undefined;
  const steps = await db.query<StepView>(
    `SELECT name, state, attempts, result, error FROM tasker.workflow_steps WHERE task_uuid = $1 ORDER BY position`,
    [taskUuid],
  );
  return { ...row, steps: steps.rows };
}
