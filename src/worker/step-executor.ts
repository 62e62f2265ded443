import type { Database } from '../db/database.js';
import type { StepMessage } from '../engine/queues.js';
import type { PgmqClient, QueueMessage } from '../messaging/pgmq-client.js';
import type { StepHandler } from './handler-module.js';
import { runHandler } from './run-handler.js';
import { claimStep, type ClaimedStep } from './step-claim.js';
import type { StepEventPublisher } from './step-events.js';
import { reportAttempt, type AttemptOutcome } from './step-report.js';

/** Extra seconds a claimed message stays invisible beyond the step's timeout. */
const VISIBILITY_MARGIN_SECONDS = 10;

/** What a worker needs to run steps. */
export interface StepExecutorDeps {
  db: Database;
  queue: PgmqClient;
  workerId: string;
  handlers: ReadonlyMap<string, StepHandler>;
  events: StepEventPublisher;
  observer?: StepObserver;
}

/** Told about each attempt (telemetry hooks in here). */
export interface StepObserver {
  attemptStarted?(step: ClaimedStep, headers: Record<string, unknown>): void;
  attemptFinished?(step: ClaimedStep, outcome: AttemptOutcome, reported: boolean): void;
  attemptLost?(stepName: string, attempt: number): void;
}

/**
 * Runs one message of a worker queue: claim the step, run its handler, record and report
 * the outcome. The message is archived in the transaction that reports the outcome, so a
 * worker that dies before that leaves it to come back after the visibility timeout.
 */
export async function executeStepMessage(
  deps: StepExecutorDeps,
  queueName: string,
  message: QueueMessage<StepMessage>,
): Promise<void> {
  const { db, queue } = deps;
  const claim = await db.transaction(async (tx) => {
    const outcome = await claimStep(tx, queue, message.message.step_uuid, deps.workerId);
    if (outcome.kind === 'claimed') {
      const vt = outcome.step.timeout_seconds + VISIBILITY_MARGIN_SECONDS;
      await queue.setVt(queueName, message.msgId, vt, tx);
    } else {
      await queue.archive(queueName, message.msgId, tx);
    }
    return outcome;
  });
  if (claim.kind !== 'claimed') {
    if (claim.kind === 'lost') deps.observer?.attemptLost?.(claim.stepName, claim.attempt);
    return;
  }
  const step = claim.step;
  deps.observer?.attemptStarted?.(step, message.headers ?? {});
  const events = await deps.events.begin(step);
  const handler = deps.handlers.get(step.handler_callable);
  const outcome: AttemptOutcome = handler
    ? await runHandler(
        handler,
        {
          context: step.context,
          dependencyResults: step.dependency_results,
          step: { name: step.step_name, uuid: step.step_uuid, attempt: step.attempt, initialization: step.handler_initialization },
          task: {
            uuid: step.task_uuid,
            namespace: step.namespace,
            name: step.task_name,
            version: step.version,
            correlationId: step.correlation_id,
          },
          publishEvent: (name, payload) => events.publish(name, payload),
        },
        step.timeout_seconds,
      )
    : {
        ok: false,
        error: {
          name: 'HandlerNotFound',
          message: `this worker has no handler ${step.handler_callable} for step ${step.step_name}`,
          permanent: true,
        },
      };
  const reported = await db.transaction(async (tx) => {
    const ok = await reportAttempt(tx, queue, step, outcome);
    if (ok) await events.persist(tx, outcome.ok);
    await queue.archive(queueName, message.msgId, tx);
    return ok;
  });
  if (reported) await events.release();
  deps.observer?.attemptFinished?.(step, outcome, reported);
}
