import { hostname } from 'node:os';
import type { Database } from '../db/database.js';
import {
  STEP_RESULTS_QUEUE,
  TASK_REQUESTS_QUEUE,
  type StepResultMessage,
  type TaskRequestMessage,
} from '../engine/queues.js';
import { logger } from '../logging/logger.js';
import { PgmqClient, type QueueMessage } from '../messaging/pgmq-client.js';
import { startQueueConsumer } from '../messaging/queue-consumer.js';
import {
  orchestrate,
  type EvaluationOutcome,
  type ItemOutcome,
  type OrchestrationItem,
  type ResultOutcome,
} from './orchestrate.js';
import { enqueueDueRetries } from './retry-scanner.js';
import { readQueue } from '../engine/queue-statements.js';

/** Orchestrator settings (`[orchestration]` in the configuration). */
export interface OrchestratorOptions {
  db: Database;
  batchSize?: number;
  visibilityTimeoutSeconds?: number;
  pollIntervalMs?: number;
  retryScanIntervalMs?: number;
  /** Names this orchestrator in logs. */
  id?: string;
  observer?: OrchestrationObserver;
}

/** Told what the orchestrator did, after each change is committed (telemetry hooks in here). */
export interface OrchestrationObserver {
  taskInitialized?(taskUuid: string, outcome: EvaluationOutcome): void;
  stepResultProcessed?(taskUuid: string, outcome: ResultOutcome): void;
  retriesEnqueued?(taskUuid: string, outcome: EvaluationOutcome): void;
}

/** Tells the observer what an orchestration did (an orchestrator's, or a reporting worker's). */
export function tellObserver(observer: OrchestrationObserver, outcome: ItemOutcome): void {
  if (!outcome) return;
  if (outcome.kind === 'result') observer.stepResultProcessed?.(outcome.taskUuid, outcome.result);
  else observer.taskInitialized?.(outcome.taskUuid, outcome.evaluation);
}

/** A running orchestrator. */
export interface Orchestrator {
  readonly id: string;
  /** Stops taking messages and waits for the ones in hand. */
  stop(): Promise<void>;
}

/** Messages that keep failing are set aside after this many reads instead of looping forever. */
const MAX_MESSAGE_READS = 10;

/** Batches of one queue orchestrated at once. */
const BATCHES_IN_FLIGHT = 2;

/**
 * Starts consuming task requests and step results, and scanning for steps whose retry
 * backoff elapsed. Any number of orchestrators may run against one database.
 */
export async function startOrchestrator(options: OrchestratorOptions): Promise<Orchestrator> {
  const { db } = options;
  const id = options.id ?? `orchestrator-${hostname()}-${process.pid}`;
  const queue = new PgmqClient(db);
  const observer = options.observer ?? {};
  const batchSize = options.batchSize ?? 100;
  const common = {
    db,
    client: queue,
    batchSize,
    // Reads the next batch while one is orchestrated; the two lock their tasks in the same
    // order and take turns on a task they share, as two orchestrator processes would.
    maxInFlight: BATCHES_IN_FLIGHT * batchSize,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 30,
    pollIntervalMs: options.pollIntervalMs ?? 1000,
  };

  const report = (outcome: ItemOutcome): void => tellObserver(observer, outcome);

  /** Orchestrates the items and archives their messages in one statement. */
  function runBatch(
    queueName: string,
    messages: readonly QueueMessage<unknown>[],
    items: OrchestrationItem[],
  ): Promise<ItemOutcome[]> {
    return orchestrate(db, items, {
      archive: { queue: queueName, msgIds: messages.map((message) => message.msgId) },
    });
  }

  /**
   * A batch in one transaction; if it fails, each message on its own so that one bad message
   * cannot hold up the rest. A message that keeps failing is archived after a few reads.
   */
  async function handleBatch<T>(
    queueName: string,
    messages: readonly QueueMessage<T>[],
    toItem: (message: T) => OrchestrationItem,
  ): Promise<void> {
    try {
      const outcomes = await runBatch(
        queueName,
        messages,
        messages.map((message) => toItem(message.message)),
      );
      outcomes.forEach(report);
      return;
    } catch (error) {
      if (messages.length === 1)
        logger.error({ err: error, queue: queueName }, 'orchestration message failed');
    }
    if (messages.length === 1 && messages[0]!.readCount < MAX_MESSAGE_READS) return;
    for (const message of messages) {
      try {
        const [outcome] = await runBatch(queueName, [message], [toItem(message.message)]);
        report(outcome);
      } catch (error) {
        logger.error({ err: error, queue: queueName, msgId: message.msgId }, 'orchestration message failed');
        if (message.readCount >= MAX_MESSAGE_READS) {
          logger.error(
            { queue: queueName, msgId: message.msgId },
            'archiving a message that failed too often',
          );
          await queue.archive(queueName, message.msgId).catch(() => undefined);
        }
      }
    }
  }

  /** Reads an orchestration queue through its own statement function, not pgmq's read. */
  const readOwn =
    <T>(queueName: string) =>
    (qty: number): Promise<QueueMessage<T>[]> =>
      readQueue<T>(db, queueName, common.visibilityTimeoutSeconds, qty);

  const requests = await startQueueConsumer<TaskRequestMessage>({
    ...common,
    queue: TASK_REQUESTS_QUEUE,
    read: readOwn<TaskRequestMessage>(TASK_REQUESTS_QUEUE),
    handle: (messages) =>
      handleBatch(TASK_REQUESTS_QUEUE, messages, (message) => ({
        kind: 'initialize',
        taskUuid: message.task_uuid,
      })),
  });

  const results = await startQueueConsumer<StepResultMessage>({
    ...common,
    queue: STEP_RESULTS_QUEUE,
    read: readOwn<StepResultMessage>(STEP_RESULTS_QUEUE),
    handle: (messages) =>
      handleBatch(STEP_RESULTS_QUEUE, messages, (message) => ({
        kind: 'result',
        taskUuid: message.task_uuid,
        stepUuid: message.step_uuid,
        attempt: message.attempt,
      })),
  });

  let scan: Promise<void> | undefined;
  const scanner = setInterval(() => {
    scan ??= enqueueDueRetries(db)
      .then((done) => {
        for (const { taskUuid, outcome } of done) observer.retriesEnqueued?.(taskUuid, outcome);
      })
      .catch((error: unknown) => logger.warn({ err: error }, 'retry scan failed'))
      .finally(() => (scan = undefined));
  }, options.retryScanIntervalMs ?? 250);

  logger.info({ id }, 'orchestrator started');
  return {
    id,
    async stop() {
      clearInterval(scanner);
      await Promise.all([requests.stop(), results.stop(), scan]);
      logger.info({ id }, 'orchestrator stopped');
    },
  };
}
