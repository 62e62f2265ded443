/**
 * Entry point of the worker thread that records a CLI process's task spans (see
 * task-span-thread-sink.ts): it rebuilds each span from the histories the main thread loaded,
 * and serializes and exports it over OTLP, so none of that work delays the engine's thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { TASKER_TRACER } from '../telemetry/metric-catalog.js';
import { recordTaskSpans } from '../telemetry/task-span-sink.js';
import type { TaskSpanThreadData, ThreadReply, ThreadRequest } from './task-span-thread-sink.js';
import { createTracerProvider } from './trace-provider.js';

const port = parentPort;
if (!port) throw new Error('task-span-thread.ts runs as a worker thread only');
const provider = createTracerProvider((workerData as TaskSpanThreadData).settings);
const tracer = provider.getTracer(TASKER_TRACER);

function reply(message: ThreadReply): void {
  port!.postMessage(message);
}

function replyError(id: number, error: unknown): void {
  reply({ id, error: error instanceof Error ? error.message : String(error) });
}

port.on('message', (request: ThreadRequest) => {
  if (request.kind === 'record') {
    try {
      reply({ id: request.id, finished: recordTaskSpans(tracer, request.historiesJson) });
    } catch (error) {
      replyError(request.id, error);
    }
    return;
  }
  void provider.shutdown().then(
    () => reply({ id: request.id, finished: [] }),
    (error: unknown) => replyError(request.id, error),
  );
});
