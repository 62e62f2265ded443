/**
 * A TaskSpanSink that records task spans in a worker thread (task-span-thread.ts) with a
 * tracer provider of its own, exporting to the same place as the main thread's. Measured on
 * the 4-step linear workflow: rebuilding, serializing and exporting a task span costs about as
 * much CPU as the rest of the task's telemetry; the main thread now only copies one string per
 * batch of tasks to the thread (`npm run bench -- telemetry`).
 */
import { Worker } from 'node:worker_threads';
import { logger } from '../logging/logger.js';
import type { FinishedTask, TaskSpanSink } from '../telemetry/task-span-sink.js';
import type { TraceExportSettings } from './trace-provider.js';

/** The thread's workerData. */
export interface TaskSpanThreadData {
  settings: TraceExportSettings;
  /** Set when running from TypeScript sources: the module typescript-worker.mjs loads. */
  typescriptEntry?: string;
}

/** Messages to the thread. */
export type ThreadRequest =
  | { kind: 'record'; id: number; historiesJson: string }
  /** Export what is buffered and stop. */
  | { kind: 'shutdown'; id: number };

/** Messages from the thread: one per request. */
export type ThreadReply = { id: number; finished: FinishedTask[] } | { id: number; error: string };

/** A task span sink in a thread of its own, which must be shut down. */
export interface TaskSpanThread extends TaskSpanSink {
  /** Exports what the thread has buffered and ends it. */
  shutdown(): Promise<void>;
  /** Ends the thread at once (what it has not exported is lost). */
  terminate(): Promise<void>;
}

/**
 * The compiled thread module next to this one, or, when Tasker runs from its TypeScript sources
 * (tests, benchmarks), typescript-worker.mjs loading the .ts through tsx.
 */
function startThread(settings: TraceExportSettings): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    const data: TaskSpanThreadData = { settings };
    return new Worker(new URL('./task-span-thread.js', import.meta.url), { workerData: data });
  }
  const data: TaskSpanThreadData = {
    settings,
    typescriptEntry: new URL('./task-span-thread.ts', import.meta.url).href,
  };
  return new Worker(new URL('./typescript-worker.mjs', import.meta.url), { workerData: data });
}

/**
 * Starts the thread. Should it fail to start or die, `fallback` (the main thread's own sink)
 * records what was in flight and everything after, so no task span or count is lost.
 */
export function startTaskSpanThread(settings: TraceExportSettings, fallback: TaskSpanSink): TaskSpanThread {
  const worker = startThread(settings);
  interface Waiting {
    resolve(finished: FinishedTask[]): void;
    reject(error: Error): void;
    /** A record request's histories, to record them in the main thread if the thread dies. */
    historiesJson?: string;
  }
  const waiting = new Map<number, Waiting>();
  let nextId = 0;
  let failed = false;
  let closing = false;
  // The thread keeps the process alive only while an answer is awaited, or while it stops.
  worker.unref();

  const settle = (id: number): Waiting | undefined => {
    const entry = waiting.get(id);
    waiting.delete(id);
    if (waiting.size === 0 && !closing) worker.unref();
    return entry;
  };
  worker.on('message', (reply: ThreadReply) => {
    const entry = settle(reply.id);
    if ('error' in reply) entry?.reject(new Error(`task span thread: ${reply.error}`));
    else entry?.resolve(reply.finished);
  });
  const fail = (error: Error): void => {
    if (failed) return;
    failed = true;
    if (!closing)
      logger.error(
        { err: error },
        'telemetry: the task span thread failed; task spans are recorded in the main thread from now on',
      );
    for (const id of [...waiting.keys()]) {
      const entry = settle(id)!;
      if (entry.historiesJson === undefined) entry.resolve([]);
      else
        fallback.record(entry.historiesJson).then(
          (finished) => entry.resolve(finished),
          (error: Error) => entry.reject(error),
        );
    }
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the task span thread exited (code ${code})`)));

  function ask(request: ThreadRequest): Promise<FinishedTask[]> {
    return new Promise((resolve, reject) => {
      if (waiting.size === 0) worker.ref();
      waiting.set(request.id, {
        resolve,
        reject,
        ...(request.kind === 'record' ? { historiesJson: request.historiesJson } : {}),
      });
      worker.postMessage(request);
    });
  }

  return {
    record(historiesJson) {
      if (closing) return Promise.reject(new Error('the task span thread is shut down'));
      if (failed) return fallback.record(historiesJson);
      return ask({ kind: 'record', id: nextId++, historiesJson });
    },
    async shutdown() {
      if (closing) return;
      closing = true;
      worker.ref();
      if (!failed) await ask({ kind: 'shutdown', id: nextId++ });
      await worker.terminate();
    },
    async terminate() {
      closing = true;
      await worker.terminate();
    },
  };
}
