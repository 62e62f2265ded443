import { hostname } from 'node:os';
import type { Database } from '../db/database.js';
import { ensureNamespaceQueues } from '../engine/namespace-queues.js';
import { workerQueue } from '../engine/queues.js';
import { logger } from '../logging/logger.js';
import { PgmqClient } from '../messaging/pgmq-client.js';
import type { ItemOutcome } from '../orchestration/orchestrate.js';
import { tellObserver, type OrchestrationObserver } from '../orchestration/orchestrator.js';
import { startQueueConsumer, type QueueConsumer } from '../messaging/queue-consumer.js';
import type { StepHandler } from './handler-module.js';
import { readAndClaimSteps, type ClaimOutcome } from './step-claim.js';
import { executeClaimedStep, type StepObserver } from './step-executor.js';
import { createReporter } from './step-report.js';
import type { StepEventPublisher } from './step-events.js';

/** Worker settings (`[worker]` in the configuration). */
export interface WorkerOptions {
  db: Database;
  namespaces: readonly string[];
  handlers: ReadonlyMap<string, StepHandler>;
  events: StepEventPublisher;
  /** Steps run at once, per namespace queue. */
  concurrency?: number;
  /**
   * Step messages read (and claimed) per poll; at most `concurrency`, since a claimed step's
   * timeout starts at its claim and it must not wait behind others.
   */
  batchSize?: number;
  visibilityTimeoutSeconds?: number;
  pollIntervalMs?: number;
  id?: string;
  observer?: StepObserver;
  /**
   * Orchestrate each result in the transaction that reports it, when its task is free
   * (`worker.orchestrate_results`, default true); else the orchestrators take every result.
   */
  orchestrateResults?: boolean;
  /** Told what the worker's own orchestrations did (telemetry, as for an orchestrator). */
  orchestrationObserver?: OrchestrationObserver;
}

/** A running worker. */
export interface Worker {
  readonly id: string;
  /** Graceful shutdown: takes no new steps and resolves once the steps in hand are reported. */
  stop(): Promise<void>;
}

/** Starts consuming the worker queues of the given namespaces. */
export async function startWorker(options: WorkerOptions): Promise<Worker> {
  const id = options.id ?? `worker-${hostname()}-${process.pid}`;
  const queue = new PgmqClient(options.db);
  const { orchestrationObserver } = options;
  const deps = {
    workerId: id,
    report: createReporter(options.db, {
      orchestrate: options.orchestrateResults ?? true,
      ...(orchestrationObserver
        ? { onOrchestrated: (outcome: ItemOutcome) => tellObserver(orchestrationObserver, outcome) }
        : {}),
    }),
    handlers: options.handlers,
    events: options.events,
    ...(options.observer ? { observer: options.observer } : {}),
  };
  // Until a step is claimed its message hides for this long; the claim extends it to the step's timeout.
  const visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? 30;
  const concurrency = options.concurrency ?? 100;
  const consumers: QueueConsumer[] = [];
  try {
    for (const namespace of options.namespaces) {
      const queueName = workerQueue(namespace);
      await ensureNamespaceQueues(options.db, namespace);
      consumers.push(
        await startQueueConsumer<ClaimOutcome>({
          db: options.db,
          client: queue,
          queue: queueName,
          batchSize: Math.min(options.batchSize ?? 50, concurrency),
          // The next batch is claimed while earlier ones run (when concurrency leaves room).
          maxInFlight: concurrency,
          visibilityTimeoutSeconds,
          pollIntervalMs: options.pollIntervalMs ?? 1000,
          read: (qty) => readAndClaimSteps(options.db, queueName, qty, visibilityTimeoutSeconds, id),
          handle: async (messages) => {
            await Promise.all(
              messages.map((message) =>
                executeClaimedStep(deps, queueName, message).catch((error: unknown) =>
                  // The message comes back after its visibility timeout and is tried again.
                  logger.error({ err: error, queue: queueName, msgId: message.msgId }, 'step message failed'),
                ),
              ),
            );
          },
        }),
      );
    }
  } catch (error) {
    await Promise.all(consumers.map((consumer) => consumer.stop()));
    throw error;
  }
  logger.info({ id, namespaces: options.namespaces }, 'worker started');
  return {
    id,
    async stop() {
      await Promise.all(consumers.map((consumer) => consumer.stop()));
      logger.info({ id }, 'worker stopped');
    },
  };
}
