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
import { startQueueConsumer, type QueueConsumer } from '../messaging/queue-consumer.js';
import { enqueueDueRetries } from './retry-scanner.js';
import { processStepResult, type ResultOutcome } from './result-processor.js';
import type { EvaluationOutcome } from './task-evaluator.js';
import { initializeTask } from './task-initializer.js';

/** Orchestrator settings (`[orchestration]` in the configuration). */
export interface OrchestratorOptions {
  db: Database;
  batchSize?: number;
  visibilityTimeoutSeconds?: number;
  pollIntervalMs?: number;
  retryScanIntervalMs?: number;
  /** Names this orchestrator in transitions and logs. */
  id?: string;
  observer?: OrchestrationObserver;
}

/** Told what the orchestrator did, after each change is committed (telemetry hooks in here). */
export interface OrchestrationObserver {
  taskInitialized?(taskUuid: string, outcome: EvaluationOutcome): void;
  stepResultProcessed?(taskUuid: string, outcome: ResultOutcome): void;
  retriesEnqueued?(taskUuid: string, outcome: EvaluationOutcome): void;
}

/** A running orchestrator. */
export interface Orchestrator {
  readonly id: string;
  /** Stops taking messages and waits for the ones in hand. */
  stop(): Promise<void>;
}

/** Messages that keep failing are set aside after this many reads instead of looping forever. */
const MAX_MESSAGE_READS = 10;

/**
 * Starts consuming task requests and step results, and scanning for steps whose retry
 * backoff elapsed. Any number of orchestrators may run against one database.
 */
export async function startOrchestrator(options: OrchestratorOptions): Promise<Orchestrator> {
  const { db } = options;
  const id = options.id ?? `orchestrator-${hostname()}-${process.pid}`;
  const queue = new PgmqClient(db);
  const observer = options.observer ?? {};
  const common = {
    db,
    client: queue,
    batchSize: options.batchSize ?? 20,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 30,
    pollIntervalMs: options.pollIntervalMs ?? 1000,
  };

  /** Runs `work` and archives the message in one transaction; gives up on poison messages. */
  async function handleOne<T, R>(
    queueName: string,
    message: QueueMessage<T>,
    work: (tx: Parameters<Parameters<Database['transaction']>[0]>[0]) => Promise<R>,
  ): Promise<R | undefined> {
    try {
      return await db.transaction(async (tx) => {
        const outcome = await work(tx);
        await queue.archive(queueName, message.msgId, tx);
        return outcome;
      });
    } catch (error) {
      logger.error({ err: error, queue: queueName, msgId: message.msgId }, 'orchestration message failed');
      if (message.readCount >= MAX_MESSAGE_READS) {
        logger.error({ queue: queueName, msgId: message.msgId }, 'archiving a message that failed too often');
        await queue.archive(queueName, message.msgId).catch(() => undefined);
      }
      return undefined;
    }
  }

  const requests = await startQueueConsumer<TaskRequestMessage>({
    ...common,
    queue: TASK_REQUESTS_QUEUE,
    handle: async (messages) => {
      await Promise.all(
        messages.map(async (message) => {
          const outcome = await handleOne(TASK_REQUESTS_QUEUE, message, (tx) =>
            initializeTask(tx, queue, message.message),
          );
          if (outcome) observer.taskInitialized?.(message.message.task_uuid, outcome);
        }),
      );
    },
  });

  const results = await startQueueConsumer<StepResultMessage>({
    ...common,
    queue: STEP_RESULTS_QUEUE,
    handle: async (messages) => {
      await Promise.all(
        messages.map(async (message) => {
          const outcome = await handleOne(STEP_RESULTS_QUEUE, message, (tx) =>
            processStepResult(tx, queue, message.message),
          );
          if (outcome) observer.stepResultProcessed?.(message.message.task_uuid, outcome);
        }),
      );
    },
  });

  let scan: Promise<void> | undefined;
  const scanner = setInterval(() => {
    scan ??= enqueueDueRetries(db, queue)
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
