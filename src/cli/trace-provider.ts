/**
 * The tracer provider of a CLI process, built the same way in the main thread (step spans)
 * and in the task span thread (task-span-thread.ts): Tasker's id generator, so task spans keep
 * the ids chosen when their task was created, and a batch processor exporting over OTLP/HTTP.
 */
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, RandomIdGenerator } from '@opentelemetry/sdk-trace-base';
import { createPresetIdGenerator } from '../telemetry/id-generator.js';

/** What a thread needs to build the provider: plain data, so it can be posted to a worker thread. */
export interface TraceExportSettings {
  /** Resource attributes of the process (service.name, service.instance.id, …). */
  resource: Record<string, string>;
  /** `<endpoint>/v1/traces`; undefined: spans are recorded and dropped. */
  tracesUrl: string | undefined;
  /** OTLP/HTTP JSON instead of protobuf. */
  json: boolean;
}

// A task span carries an event per transition; the SDK's default limit (128) would cut long workflows.
const SPAN_EVENT_LIMIT = 10_000;

export function createTracerProvider(settings: TraceExportSettings): BasicTracerProvider {
  const TraceExporter = settings.json ? JsonTraceExporter : ProtobufTraceExporter;
  return new BasicTracerProvider({
    resource: resourceFromAttributes(settings.resource),
    idGenerator: createPresetIdGenerator(new RandomIdGenerator()),
    spanLimits: { eventCountLimit: SPAN_EVENT_LIMIT },
    spanProcessors: settings.tracesUrl
      ? [new BatchSpanProcessor(new TraceExporter({ url: settings.tracesUrl }))]
      : [],
  });
}
