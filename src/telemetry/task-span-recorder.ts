import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Context,
  type HrTime,
  type Tracer,
} from '@opentelemetry/api';
import { logger } from '../logging/logger.js';
import { parseTraceParent, type TraceParent } from './trace-context.js';
import { withPresetIds } from './id-generator.js';
import { TASK_SPAN } from './system-events.js';
import { taskSpanEvents, taskSpanOutline, type TaskHistory } from './task-span-events.js';

/** Microseconds since the epoch as an OpenTelemetry HrTime (exact, unlike fractional ms). */
export function hrTimeFromMicros(us: number): HrTime {
  const seconds = Math.floor(us / 1_000_000);
  return [seconds, (us - seconds * 1_000_000) * 1000];
}

function remoteContext(parent: TraceParent): Context {
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: parent.traceId,
    spanId: parent.spanId,
    traceFlags: parent.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  });
}

let warnedAboutIds = false;

/**
 * Records a finished task's `task.orchestration` span, retroactively: from tasks.created_at to
 * completed_at, under the trace and span id chosen at creation (so the step spans recorded by
 * workers meanwhile are its children), as a child of the creator's span when there was one.
 * The tracer provider must use Tasker's id generator (id-generator.ts) for the ids to hold.
 */
export function recordTaskSpan(tracer: Tracer, history: TaskHistory): void {
  const outline = taskSpanOutline(history);
  const preset = parseTraceParent(history.task.traceparent);
  const parent = parseTraceParent(history.task.parentTraceparent);
  const start = (): ReturnType<Tracer['startSpan']> =>
    tracer.startSpan(
      TASK_SPAN,
      {
        kind: SpanKind.INTERNAL,
        startTime: hrTimeFromMicros(outline.startUs),
        attributes: outline.attributes,
      },
      parent ? remoteContext(parent) : ROOT_CONTEXT,
    );
  const span = preset ? withPresetIds(preset, start) : start();
  if (preset && span.isRecording() && span.spanContext().spanId !== preset.spanId && !warnedAboutIds) {
    warnedAboutIds = true;
    logger.warn(
      'task spans get random ids: the tracer provider does not use the id generator of tasker/telemetry/id-generator, so step spans will not nest under their task span',
    );
  }
  for (const event of taskSpanEvents(history)) {
    span.addEvent(event.name, event.attributes, hrTimeFromMicros(event.timeUs));
  }
  if (outline.status === 'ok') span.setStatus({ code: SpanStatusCode.OK });
  if (outline.status === 'error') {
    span.setStatus({
      code: SpanStatusCode.ERROR,
      ...(outline.statusMessage ? { message: outline.statusMessage } : {}),
    });
  }
  span.end(hrTimeFromMicros(outline.endUs));
}
