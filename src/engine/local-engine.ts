import { hostname } from 'node:os';
import type { TaskerConfig } from '../config/schema.js';
import type { Database } from '../db/database.js';
import { startEventRuntime, type EventRuntime } from '../events/domain/event-runtime.js';
import {
  startOrchestrator,
  type Orchestrator,
  type OrchestrationObserver,
} from '../orchestration/orchestrator.js';
import { mergeObservers } from '../telemetry/merge-observers.js';
import type { SystemTelemetry } from '../telemetry/system-telemetry.js';
import type { HandlerModule } from '../worker/handler-module.js';
import type { StepObserver } from '../worker/step-executor.js';
import { startWorker, type Worker } from '../worker/worker.js';

/** What to run in this process. */
export interface EngineOptions {
  db: Database;
  config: TaskerConfig;
  /** Run an orchestrator here. */
  orchestrator?: boolean;
  /** Run a worker for these namespaces with this module's handlers and subscribers. */
  worker?: { namespaces: readonly string[]; module: HandlerModule };
  /** Consume these namespaces' durable events with the module's subscribers, without a worker. */
  events?: { namespaces: readonly string[]; module: HandlerModule };
  orchestrationObserver?: OrchestrationObserver;
  stepObserver?: StepObserver;
  /** System events as OpenTelemetry (createSystemTelemetry); flushed when the engine stops. */
  telemetry?: SystemTelemetry;
  id?: string;
}

/** The parts of the engine running in this process. */
export interface Engine {
  readonly orchestrator: Orchestrator | undefined;
  readonly worker: Worker | undefined;
  readonly events: EventRuntime | undefined;
  /** Graceful stop: the worker finishes its steps, then the orchestrator and event consumers stop. */
  stop(): Promise<void>;
}

/**
 * Starts an orchestrator, a worker and the domain event runtime in this process, as
 * configured: what `tasker run`, `tasker worker`, the demo, tests and benchmarks share.
 */
export async function startEngine(options: EngineOptions): Promise<Engine> {
  const { db, config } = options;
  // One name for the worker and the events it fires (`metadata.fired_by`).
  const id = options.id ?? `worker-${hostname()}-${process.pid}`;
  const started: Array<{ stop(): Promise<void> }> = [];
  const stopAll = async (): Promise<void> => {
    for (const part of started.reverse()) await part.stop();
  };
  const { telemetry } = options;
  // Stopped last: recordings started by the parts' final steps finish before stop() resolves.
  if (telemetry) started.push({ stop: () => telemetry.flush() });
  const orchestrationObserver = mergeObservers(
    options.orchestrationObserver,
    telemetry?.orchestrationObserver,
  );
  const stepObserver = mergeObservers(options.stepObserver, telemetry?.stepObserver);
  try {
    const eventSource = options.worker ?? options.events;
    const events = eventSource
      ? await startEventRuntime({
          db,
          config: config.events,
          module: eventSource.module,
          namespaces: eventSource.namespaces,
          id,
        })
      : undefined;
    if (events) started.push(events);
    const orchestrator = options.orchestrator
      ? await startOrchestrator({
          db,
          batchSize: config.orchestration.batch_size,
          visibilityTimeoutSeconds: config.orchestration.visibility_timeout,
          pollIntervalMs: config.orchestration.poll_interval_ms,
          retryScanIntervalMs: config.orchestration.retry_scan_interval_ms,
          ...(orchestrationObserver ? { observer: orchestrationObserver } : {}),
        })
      : undefined;
    if (orchestrator) started.push(orchestrator);
    const worker =
      options.worker && events
        ? await startWorker({
            db,
            namespaces: options.worker.namespaces,
            handlers: options.worker.module.handlers,
            events: events.publisher,
            concurrency: config.worker.concurrency,
            batchSize: config.worker.batch_size,
            visibilityTimeoutSeconds: config.worker.visibility_timeout,
            pollIntervalMs: config.worker.poll_interval_ms,
            id,
            orchestrateResults: config.worker.orchestrate_results,
            ...(stepObserver ? { observer: stepObserver } : {}),
            ...(orchestrationObserver ? { orchestrationObserver } : {}),
          })
        : undefined;
    if (worker) started.push(worker);
    return { orchestrator, worker, events, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
