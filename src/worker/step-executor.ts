import type { QueueMessage } from '../messaging/pgmq-client.js';
import type { StepHandler } from './handler-module.js';
import { runHandler } from './run-handler.js';
import type { ClaimedStep, ClaimOutcome } from './step-claim.js';
import type { StepEventPublisher } from './step-events.js';
import type { AttemptOutcome, ReportAttempt } from './step-report.js';

/** What a worker needs to run steps. */
export interface StepExecutorDeps {
  workerId: string;
  report: ReportAttempt;
  handlers: ReadonlyMap<string, StepHandler>;
  events: StepEventPublisher;
  observer?: StepObserver;
}

/** Told about each attempt (telemetry hooks in here). */
export interface StepObserver {
  /** After the claim committed; `message` names the queue message the attempt came from. */
  attemptStarted?(
    step: ClaimedStep,
    headers: Record<string, unknown>,
    message?: { queue: string; msgId: number },
  ): void;
  /** Just before the handler is called. */
  beforeHandle?(step: ClaimedStep): void;
  /** The handler returned, threw or timed out; the outcome is not reported yet. */
  afterHandle?(step: ClaimedStep, outcome: AttemptOutcome): void;
  attemptFinished?(step: ClaimedStep, outcome: AttemptOutcome, reported: boolean): void;
  attemptLost?(stepName: string, attempt: number): void;
  /**
   * The W3C `traceparent` of the attempt's own span, if the observer records one: the trace
   * context its domain events are published in. Asked after attemptStarted.
   */
  traceParent?(step: ClaimedStep): string | undefined;
}

/**
 * Runs one claimed message of a worker queue (see readAndClaimSteps): run the step's handler,
 * record and report the outcome. The message is archived by the statement that reports the
 * outcome, so a worker that dies before that leaves it to come back after the visibility timeout.
 */
export async function executeClaimedStep(
  deps: StepExecutorDeps,
  queueName: string,
  message: QueueMessage<ClaimOutcome>,
): Promise<void> {
  const claim = message.message;
  if (claim.outcome !== 'claimed') {
    if (claim.outcome === 'lost') deps.observer?.attemptLost?.(claim.step_name, claim.attempt);
    return;
  }
  const step = claim.step;
  const headers = message.headers ?? {};
  deps.observer?.attemptStarted?.(step, headers, { queue: queueName, msgId: message.msgId });
  // Events continue the attempt's span when there is one, else the task's (the claim's header).
  const traceparent = deps.observer?.traceParent?.(step) ?? headers.traceparent;
  const events = await deps.events.begin(step, typeof traceparent === 'string' ? { traceparent } : {});
  const handler = deps.handlers.get(step.handler_callable);
  deps.observer?.beforeHandle?.(step);
  const outcome: AttemptOutcome = handler
    ? await runHandler(
        handler,
        {
          context: step.context,
          dependencyResults: step.dependency_results,
          step: {
            name: step.step_name,
            uuid: step.step_uuid,
            attempt: step.attempt,
            initialization: step.handler_initialization,
          },
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
  events.seal();
  deps.observer?.afterHandle?.(step, outcome);
  const reported = await deps.report({ step, outcome, queue: queueName, msgId: message.msgId, events });
  if (reported) await events.release(outcome.ok);
  deps.observer?.attemptFinished?.(step, outcome, reported);
}
