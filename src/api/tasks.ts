import { isSpanContextValid, trace, TraceFlags } from '@opentelemetry/api';
import type { Database } from '../db/database.js';
import { ensureNamespaceQueues } from '../engine/namespace-queues.js';
import { TASK_REQUESTS_QUEUE, type TaskRequestMessage } from '../engine/queues.js';
import { TaskerError } from '../errors.js';
import { PgmqClient } from '../messaging/pgmq-client.js';
import { insertTask, loadTaskView, type TaskView } from '../persistence/task-store.js';
import { countTaskRequest } from '../telemetry/task-requests.js';
import { formatTraceParent, newTaskTraceParent } from '../telemetry/trace-context.js';
import { validateContext } from '../templates/input-schema.js';
import type { TaskTemplate } from '../templates/types.js';

/** What a caller asks for when creating a task. */
export interface CreateTaskRequest {
  template: TaskTemplate;
  context: unknown;
  correlationId?: string;
  /** A second create with the same key returns the first task instead of a new one. */
  idempotencyKey?: string;
}

/** The created (or, by idempotency key, found) task. */
export interface CreatedTask {
  taskUuid: string;
  created: boolean;
}

/**
 * Templates stored in each database by this process, by identity: creating more tasks of one
 * template skips storing it again (concurrent creates would otherwise queue on its row lock).
 */
const storedTemplates = new WeakMap<Database, WeakSet<TaskTemplate>>();

function isTemplateStored(db: Database, template: TaskTemplate): boolean {
  return storedTemplates.get(db)?.has(template) === true;
}

/** Called after the commit that stored the template. */
function rememberStoredTemplate(db: Database, template: TaskTemplate): void {
  let stored = storedTemplates.get(db);
  if (!stored) storedTemplates.set(db, (stored = new WeakSet()));
  stored.add(template);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Refuses something that is not a UUID before it reaches SQL as one. */
export function assertTaskUuid(value: string): void {
  if (!UUID.test(value)) throw new TaskerError('USAGE', `not a task uuid: ${JSON.stringify(value)}`);
}

/**
 * Creates a task: checks its context against the template's input schema, then in one
 * transaction stores the task with its whole DAG and asks the orchestrators to start it.
 * A context that fails validation leaves nothing behind.
 */
export async function createTask(db: Database, request: CreateTaskRequest): Promise<CreatedTask> {
  validateContext(request.template, request.context);
  const queue = new PgmqClient(db);
  await ensureNamespaceQueues(db, request.template.namespace);
  // The task span joins the caller's trace when the caller is inside one.
  const active = trace.getActiveSpan()?.spanContext();
  const parent =
    active && isSpanContextValid(active)
      ? {
          traceId: active.traceId,
          spanId: active.spanId,
          sampled: (active.traceFlags & TraceFlags.SAMPLED) === 1,
        }
      : undefined;
  const traceparent = formatTraceParent(newTaskTraceParent(parent));
  const result = await db.transaction(async (tx) => {
    const created = await insertTask(tx, {
      template: request.template,
      context: request.context,
      templateStored: isTemplateStored(db, request.template),
      traceparent,
      ...(parent ? { parentTraceparent: formatTraceParent(parent) } : {}),
      ...(request.correlationId !== undefined ? { correlationId: request.correlationId } : {}),
      ...(request.idempotencyKey !== undefined ? { idempotencyKey: request.idempotencyKey } : {}),
    });
    if (created.created) {
      const message: TaskRequestMessage = { task_uuid: created.taskUuid };
      await queue.send(TASK_REQUESTS_QUEUE, message, { headers: { traceparent }, tx });
    }
    return created;
  });
  rememberStoredTemplate(db, request.template);
  if (result.created) countTaskRequest(request.template.namespace);
  return result;
}

/** The task as `--json` prints it; TASK_NOT_FOUND when there is none. */
export async function getTask(db: Database, taskUuid: string): Promise<TaskView> {
  assertTaskUuid(taskUuid);
  const task = await loadTaskView(db, taskUuid);
  if (!task) throw new TaskerError('TASK_NOT_FOUND', `no task ${taskUuid}`);
  return task;
}
