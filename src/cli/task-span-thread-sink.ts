/**
 * A TaskSpanSink that records task spans in a worker thread (task-span-thread.ts) with a
 * tracer provider of its own, exporting to the same place as the main thread's. Measured on
 * the 4-step linear workflow: rebuilding, serializing and exporting a task span costs about as
 * much CPU as the rest of the task's telemetry; the main thread now only copies one string per
 * batch of tasks to the thread (`npm run bench -- telemetry`).
 */
import { Worker } from 'node:worker_threads';
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

export function startTaskSpanThread(settings: TraceExportSettings): TaskSpanThread {
  const worker = startThread(settings);
  const waiting = new Map<number, { resolve(finished: FinishedTask[]): void; reject(error: Error): void }>();
  let nextId = 0;
  let failure: Error | undefined;
  // The thread keeps the process alive only while an answer is awaited.
  worker.unref();

  const settle = (id: number): ReturnType<typeof waiting.get> => {
    const entry = waiting.get(id);
    waiting.delete(id);
    if (waiting.size === 0) worker.unref();
    return entry;
  };
  worker.on('message', (reply: ThreadReply) => {
    const entry = settle(reply.id);
    if ('error' in reply) entry?.reject(new Error(`task span thread: ${reply.error}`));
    else entry?.resolve(reply.finished);
  });
  const fail = (error: Error): void => {
    failure ??= error;
    for (const id of [...waiting.keys()]) settle(id)?.reject(failure);
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the task span thread exited (code ${code})`)));

  function ask(request: ThreadRequest): Promise<FinishedTask[]> {
    if (failure) return Promise.reject(failure);
    return new Promise((resolve, reject) => {
      if (waiting.size === 0) worker.ref();
      waiting.set(request.id, { resolve, reject });
      worker.postMessage(request);
    });
  }

  return {
    record: (historiesJson) => ask({ kind: 'record', id: nextId++, historiesJson }),
    async shutdown() {
      await ask({ kind: 'shutdown', id: nextId++ });
      await worker.terminate();
    },
    async terminate() {
      await worker.terminate();
    },
  };
}
