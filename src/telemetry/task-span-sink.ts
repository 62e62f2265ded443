import type { Tracer } from '@opentelemetry/api';
import { parseTaskHistories } from './task-history.js';
import { FINAL_TASK_STATES, taskSpanOutline } from './task-span-events.js';
import { recordTaskSpan } from './task-span-recorder.js';

/** A task whose span was recorded, for the completion and failure counters. */
export interface FinishedTask {
  namespace: string;
  status: string;
  /** For a task in error: its failed step's error name (`Unknown` when none). */
  errorCode?: string;
}

/**
 * Where task spans are rebuilt and exported: in the engine's thread (inlineTaskSpanSink), or in
 * a thread of its own (the CLI's, src/cli/task-span-thread.ts), since rebuilding and serializing
 * a span with an event per transition costs more than the rest of a task's telemetry.
 */
export interface TaskSpanSink {
  /**
   * Records the span of each task in a final state among histories loaded by
   * loadTaskHistoriesJson; resolves to those tasks.
   */
  record(historiesJson: string): Promise<FinishedTask[]>;
}

const FINAL = new Set(FINAL_TASK_STATES);

/** Records the spans of the finished tasks of `historiesJson` with `tracer`. */
export function recordTaskSpans(tracer: Tracer, historiesJson: string): FinishedTask[] {
  const finished: FinishedTask[] = [];
  for (const history of parseTaskHistories(historiesJson)) {
    const { namespace, status } = history.task;
    if (!FINAL.has(status)) continue;
    recordTaskSpan(tracer, history);
    finished.push(
      status === 'error'
        ? { namespace, status, errorCode: taskSpanOutline(history).errorCode }
        : { namespace, status },
    );
  }
  return finished;
}

/** Task spans recorded in the calling thread. */
export function inlineTaskSpanSink(tracer: Tracer): TaskSpanSink {
  return {
    record: (historiesJson) => Promise.resolve(recordTaskSpans(tracer, historiesJson)),
  };
}
