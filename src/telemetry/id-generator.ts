import { randomBytes } from 'node:crypto';

/**
 * Lets Tasker record a span under ids it chose earlier. A task's `task.orchestration` span is
 * recorded once, when the task finishes, but its trace and span id were chosen when the task
 * was created (tasks.traceparent) and have been the parent of every step span since. The
 * OpenTelemetry API cannot set a span's id, so the SDK's id generator is replaced by this one:
 * inside {@link withPresetIds} it returns the preset ids, elsewhere random ones (or those of the
 * generator it wraps). `Tracer.startSpan` is synchronous, so one slot is enough.
 */

/** The SDK's `IdGenerator` interface (structurally; the library does not import the SDK). */
export interface IdGenerator {
  generateTraceId(): string;
  generateSpanId(): string;
}

/** Ids to hand out for the span started inside {@link withPresetIds}. */
export interface PresetIds {
  traceId: string;
  spanId: string;
}

let preset: PresetIds | undefined;

const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** Random, never all-zero (the W3C invalid id), lowercase hex of `bytes` bytes. */
function randomHex(bytes: number, zero: string): string {
  for (;;) {
    const id = randomBytes(bytes).toString('hex');
    if (id !== zero) return id;
  }
}

/** The fallback used when none is given: random ids from node:crypto. */
const randomIds: IdGenerator = {
  generateTraceId: () => randomHex(16, ZERO_TRACE),
  generateSpanId: () => randomHex(8, ZERO_SPAN),
};

/**
 * An id generator for a tracer provider (`new NodeTracerProvider({ idGenerator })`): preset
 * ids inside {@link withPresetIds}, else those of `fallback` (random by default).
 */
export function createPresetIdGenerator(fallback: IdGenerator = randomIds): IdGenerator {
  return {
    generateTraceId: () => preset?.traceId ?? fallback.generateTraceId(),
    generateSpanId: () => preset?.spanId ?? fallback.generateSpanId(),
  };
}

/**
 * Runs `fn` (which should start exactly one span, synchronously) with `ids` preset. A span
 * started with a parent takes the parent's trace id; the preset trace id is used for roots.
 */
export function withPresetIds<T>(ids: PresetIds, fn: () => T): T {
  const previous = preset;
  preset = ids;
  try {
    return fn();
  } finally {
    preset = previous;
  }
}
