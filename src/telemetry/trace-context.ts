import { randomBytes } from 'node:crypto';

/**
 * W3C trace context (`traceparent: 00-<trace-id>-<span-id>-<flags>`), written and read here
 * rather than through a registered propagator, so it travels in PGMQ headers the same way
 * whether or not an OpenTelemetry SDK is installed in the process.
 */
export interface TraceParent {
  traceId: string;
  spanId: string;
  sampled: boolean;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** Formats a trace context as a `traceparent` header value. */
export function formatTraceParent(context: TraceParent): string {
  return `00-${context.traceId}-${context.spanId}-${context.sampled ? '01' : '00'}`;
}

/** Parses a `traceparent` value; undefined when it is missing or malformed. */
export function parseTraceParent(value: unknown): TraceParent | undefined {
  if (typeof value !== 'string') return undefined;
  const match = TRACEPARENT.exec(value);
  if (!match) return undefined;
  const [, traceId, spanId, flags] = match;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId: traceId!, spanId: spanId!, sampled: (Number.parseInt(flags!, 16) & 1) === 1 };
}

/**
 * A fresh context for a new task span: a new span id, in the caller's trace when there is
 * one (so the task joins the trace of whatever created it), else in a new trace.
 */
export function newTaskTraceParent(parent?: TraceParent): TraceParent {
  return {
    traceId: parent?.traceId ?? randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    sampled: parent?.sampled ?? true,
  };
}
