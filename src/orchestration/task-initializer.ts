import type { Queryable } from '../db/database.js';
import type { TaskRequestMessage } from '../engine/queues.js';
import type { PgmqClient } from '../messaging/pgmq-client.js';
import { evaluateTask, TaskMover, type EvaluationOutcome } from './task-evaluator.js';
import { lockTask } from './task-lock.js';

/**
 * Starts a requested task: pending → initializing → enqueuing_steps, then enqueues its root
 * steps. A request for a task that already started (a redelivered message) changes nothing.
 */
export async function initializeTask(
  tx: Queryable,
  queue: PgmqClient,
  message: TaskRequestMessage,
): Promise<EvaluationOutcome | undefined> {
  const task = await lockTask(tx, message.task_uuid);
  if (!task || task.status !== 'pending') return undefined;
  const mover = new TaskMover(tx, task);
  await mover.move('initializing');
  await mover.move('enqueuing_steps');
  return evaluateTask(tx, queue, mover);
}
