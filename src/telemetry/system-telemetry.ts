import { metrics, trace, type Counter, type MeterProvider, type TracerProvider } from '@opentelemetry/api';
import type { Database } from '../db/database.js';
import { logger } from '../logging/logger.js';
import type { OrchestrationObserver } from '../orchestration/orchestrator.js';
import type { EvaluationOutcome } from '../orchestration/orchestrate.js';
import type { StepObserver } from '../worker/step-executor.js';
import { registerEngineGauges } from './engine-gauges.js';
import { METRICS, TASKER_METER, TASKER_TRACER, type MetricKey } from './metric-catalog.js';
import { createStepSpanTracker } from './step-span-tracker.js';
import { loadTaskHistoriesJson } from './task-history.js';
import { FINAL_TASK_STATES } from './task-span-events.js';
import { inlineTaskSpanSink, type TaskSpanSink } from './task-span-sink.js';

/** Where the system telemetry records to and what it watches. */
export interface SystemTelemetryOptions {
  db: Database;
  /** Default: the global tracer provider (`trace.setGlobalTracerProvider`). */
  tracerProvider?: TracerProvider;
  /** Default: the global meter provider. */
  meterProvider?: MeterProvider;
  /** Also report the database gauges (tasks waiting / blocked, steps ready, queues): orchestrators do. */
  gauges?: boolean;
  /** Where task spans are recorded. Default: in this thread, with the tracer provider's tracer. */
  taskSpans?: TaskSpanSink;
}

/**
 * System events (tier 1) as OpenTelemetry: hand the observers to the engine
 * (`startEngine({ telemetry })` does). Nothing here lets anyone subscribe to system events.
 */
export interface SystemTelemetry {
  /** Counts accepted step results and records the task span when a task finishes. */
  readonly orchestrationObserver: OrchestrationObserver;
  /** Records the `step.execution` spans and the step duration histogram in a worker. */
  readonly stepObserver: StepObserver;
  /**
   * Records the task span of a task in a final state and counts its completion or failure
   * (nothing for a task not finished). Call it after the transaction that finished the task
   * (the orchestrator observer does; `tasker task cancel` and `tasker step resolve` do for what
   * they finish). Never rejects: a failure is logged.
   */
  recordFinishedTask(taskUuid: string): Promise<void>;
  /** Resolves once every recording started so far is done. */
  flush(): Promise<void>;
  /** Flushes, ends the spans of attempts still open and unregisters the gauges. */
  close(): Promise<void>;
}

const FINAL = new Set(FINAL_TASK_STATES);
/** Most tasks whose history one query loads. */
const MAX_BATCH = 100;
/**
 * Longest a finished task waits for others to share its history query and hand-over (task spans
 * are exported in batches every few seconds anyway). Per task, the query and the hand-over cost
 * about as much as recording the span; at a few hundred tasks per second this window makes
 * them a small share.
 */
const COLLECT_MS = 100;

type CounterKey = Extract<MetricKey, 'taskCompletions' | 'taskFailures' | 'stepCompletions' | 'stepFailures'>;

/** Creates the observers and instruments of the system events. */
export function createSystemTelemetry(options: SystemTelemetryOptions): SystemTelemetry {
  const { db } = options;
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(TASKER_TRACER);
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(TASKER_METER);
  const counter = (key: CounterKey): Counter =>
    meter.createCounter(METRICS[key].name, {
      description: METRICS[key].description,
      unit: METRICS[key].unit,
    });
  const counters = {
    taskCompletions: counter('taskCompletions'),
    taskFailures: counter('taskFailures'),
    stepCompletions: counter('stepCompletions'),
    stepFailures: counter('stepFailures'),
  };
  const tracker = createStepSpanTracker(tracer, meter);
  const taskSpans = options.taskSpans ?? inlineTaskSpanSink(tracer);
  const unregisterGauges = options.gauges ? registerEngineGauges(meter, db) : undefined;
  const pending = new Set<Promise<void>>();

  /** Records the span and counts the end of each task of the batch that is in a final state. */
  async function recordBatch(taskUuids: readonly string[]): Promise<void> {
    const finished = await taskSpans.record(await loadTaskHistoriesJson(db, taskUuids));
    for (const { namespace, status, errorCode } of finished) {
      if (status === 'complete') counters.taskCompletions.add(1, { namespace });
      if (status === 'error') counters.taskFailures.add(1, { namespace, error_code: errorCode ?? 'Unknown' });
    }
  }

  // Finished tasks are loaded in batches, one batch at a time. A batch collects for up to
  // COLLECT_MS (or MAX_BATCH tasks) and while the one before it loads, so a busy engine costs one
  // history query and one hand-over to the task span thread per batch, not per task.
  interface Batch {
    uuids: Set<string>;
    /** Ends the collection: the batch loads once the one before it is done. */
    release(): void;
    done: Promise<void>;
  }
  let collecting: Batch | undefined;
  let previous: Promise<void> = Promise.resolve();

  function openBatch(): Batch {
    const uuids = new Set<string>();
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const timer = setTimeout(release, COLLECT_MS);
    // Telemetry never keeps a process alive: close() and flush() release the batch.
    timer.unref();
    const batch: Batch = {
      uuids,
      release() {
        clearTimeout(timer);
        release();
      },
      done: Promise.all([previous, released]).then(() => {
        if (collecting === batch) collecting = undefined;
        return recordBatch([...uuids]);
      }),
    };
    previous = batch.done.catch(() => undefined);
    return batch;
  }

  function recordFinishedTask(taskUuid: string): Promise<void> {
    collecting ??= openBatch();
    const batch = collecting;
    batch.uuids.add(taskUuid);
    if (batch.uuids.size >= MAX_BATCH) {
      collecting = undefined;
      batch.release();
    }
    const running = batch.done.catch((error: unknown) =>
      logger.warn({ err: error, taskUuid }, 'telemetry: recording a task span failed'),
    );
    pending.add(running);
    void running.finally(() => pending.delete(running));
    return running;
  }

  /** Records the task span when this evaluation moved the task into a final state. */
  function afterEvaluation(taskUuid: string, evaluation: EvaluationOutcome): void {
    // In the background: the engine never waits for telemetry.
    if (evaluation.changes.some((change) => FINAL.has(change.to))) void recordFinishedTask(taskUuid);
  }

  const orchestrationObserver: OrchestrationObserver = {
    taskInitialized: afterEvaluation,
    retriesEnqueued: afterEvaluation,
    stepResultProcessed(taskUuid, outcome) {
      if (outcome.stepState === 'complete') {
        counters.stepCompletions.add(1, { namespace: outcome.namespace, step_name: outcome.stepName });
      } else {
        counters.stepFailures.add(1, {
          namespace: outcome.namespace,
          step_name: outcome.stepName,
          error_type: outcome.errorName ?? 'Error',
        });
      }
      afterEvaluation(taskUuid, outcome.evaluation);
    },
  };

  // Only the hooks: the tracker's close() is ours to call.
  const stepObserver: StepObserver = {
    attemptStarted: (step, headers, message) => tracker.attemptStarted?.(step, headers, message),
    beforeHandle: (step) => tracker.beforeHandle?.(step),
    afterHandle: (step, outcome) => tracker.afterHandle?.(step, outcome),
    attemptFinished: (step, outcome, reported) => tracker.attemptFinished?.(step, outcome, reported),
    traceParent: (step) => tracker.traceParent?.(step),
  };

  async function flush(): Promise<void> {
    while (pending.size > 0) {
      collecting?.release();
      await Promise.all([...pending]);
    }
  }

  return {
    orchestrationObserver,
    stepObserver,
    recordFinishedTask,
    flush,
    async close() {
      await flush();
      tracker.close();
      unregisterGauges?.();
    },
  };
}
