/**
 * The OpenTelemetry SDK of the `tasker` CLI processes (spec 1.3). The library only talks to
 * `@opentelemetry/api`; this module, imported lazily and only when `telemetry.enabled`, wires
 * the SDK: traces over OTLP/HTTP (protobuf, or JSON) through a batch processor, metrics over OTLP/HTTP
 * every `OTEL_METRIC_EXPORT_INTERVAL` ms, an optional Prometheus `/metrics` endpoint, and
 * Tasker's id generator so task spans keep the ids chosen when their task was created. Task
 * spans are recorded and exported by a worker thread (task-span-thread-sink.ts).
 */
import { hostname } from 'node:os';
import { metrics, trace } from '@opentelemetry/api';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtobufMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, type IMetricReader } from '@opentelemetry/sdk-metrics';
import type { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import type { TaskerConfig } from '../config/schema.js';
import { TaskerError } from '../errors.js';
import { TASKER_TRACER } from '../telemetry/metric-catalog.js';
import { inlineTaskSpanSink } from '../telemetry/task-span-sink.js';
import { startTaskSpanThread, type TaskSpanThread } from './task-span-thread-sink.js';
import { createTracerProvider, type TraceExportSettings } from './trace-provider.js';

/** The `telemetry` section of the configuration. */
export type TelemetryConfig = TaskerConfig['telemetry'];

/** The SDK of this process. */
export interface TelemetrySdk {
  readonly tracerProvider: BasicTracerProvider;
  readonly meterProvider: MeterProvider;
  /**
   * Where task spans go (hand it to createSystemTelemetry): a worker thread exporting to the
   * OTLP endpoint; undefined without an endpoint, and for the `cli` role (task spans are then
   * recorded in the main thread).
   */
  readonly taskSpans: TaskSpanThread | undefined;
  /** Where `/metrics` is served, when a Prometheus port is configured. */
  readonly prometheusUrl: string | undefined;
  /** Exports what is buffered (spans, a last metric collection) and stops the exporters. */
  shutdown(): Promise<void>;
}

const DEFAULT_METRIC_INTERVAL_MS = 60_000;
/** Longest a process waits at exit for its last exports. */
const SHUTDOWN_GRACE_MS = 3_000;

/** `OTEL_METRIC_EXPORT_INTERVAL` (the OpenTelemetry variable), in milliseconds. */
function metricInterval(environ: NodeJS.ProcessEnv): number {
  const text = environ.OTEL_METRIC_EXPORT_INTERVAL;
  if (text === undefined || text === '') return DEFAULT_METRIC_INTERVAL_MS;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) {
    throw new TaskerError(
      'CONFIG_INVALID',
      `environment variable OTEL_METRIC_EXPORT_INTERVAL: expected a positive whole number of milliseconds, got ${JSON.stringify(text)}`,
    );
  }
  return value;
}

/** The OTLP/HTTP encodings Tasker exports in. */
export type OtlpProtocol = 'http/protobuf' | 'http/json';

/**
 * `OTEL_EXPORTER_OTLP_PROTOCOL` (the OpenTelemetry variable): `http/protobuf` by default, as
 * the specification says, and the cheaper of the two (measured: ~40% less CPU per span than
 * JSON); `http/json` for receivers that want JSON. gRPC is not offered.
 */
export function otlpProtocol(environ: NodeJS.ProcessEnv): OtlpProtocol {
  const value = environ.OTEL_EXPORTER_OTLP_PROTOCOL;
  if (value === undefined || value === '' || value === 'http/protobuf') return 'http/protobuf';
  if (value === 'http/json') return 'http/json';
  throw new TaskerError(
    'CONFIG_INVALID',
    `environment variable OTEL_EXPORTER_OTLP_PROTOCOL: expected http/protobuf or http/json (gRPC is not supported), got ${JSON.stringify(value)}`,
  );
}

/** `<endpoint>/v1/<signal>`, the OTLP/HTTP convention for a base endpoint. */
function signalUrl(endpoint: string, signal: 'traces' | 'metrics'): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/${signal}`;
}

async function startPrometheus(port: number): Promise<PrometheusExporter> {
  const exporter = new PrometheusExporter({ port, preventServerStart: true });
  try {
    await exporter.startServer();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TaskerError(
      'CONFIG_INVALID',
      `telemetry.prometheus_port ${port}: cannot serve /metrics (${reason})`,
    );
  }
  return exporter;
}

/**
 * Starts and registers (globally) the tracer and meter providers of a CLI process. `role`
 * (`orchestrator`, `worker`, `run`, `cli`) becomes the resource attribute `tasker.process.role`.
 */
export async function startTelemetrySdk(
  config: TelemetryConfig,
  role: string,
  environ: NodeJS.ProcessEnv = process.env,
): Promise<TelemetrySdk> {
  const resourceAttributes: Record<string, string> = {
    'service.name': config.service_name,
    'service.instance.id': `${hostname()}-${process.pid}`,
    'tasker.process.role': role,
    ...(config.deployment_environment
      ? {
          'deployment.environment.name': config.deployment_environment,
          // The older key, still what many backends group by.
          'deployment.environment': config.deployment_environment,
        }
      : {}),
  };
  const resource = resourceFromAttributes(resourceAttributes);
  const endpoint = config.otlp_endpoint;
  const interval = metricInterval(environ);
  const json = otlpProtocol(environ) === 'http/json';
  const MetricExporter = json ? JsonMetricExporter : ProtobufMetricExporter;

  const traceSettings: TraceExportSettings = {
    resource: resourceAttributes,
    tracesUrl: endpoint ? signalUrl(endpoint, 'traces') : undefined,
    json,
  };
  const tracerProvider = createTracerProvider(traceSettings);

  const readers: IMetricReader[] = [];
  if (endpoint) {
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new MetricExporter({ url: signalUrl(endpoint, 'metrics') }),
        exportIntervalMillis: interval,
        exportTimeoutMillis: Math.min(30_000, interval),
      }),
    );
  }
  const port = config.prometheus_port;
  const prometheus = port ? await startPrometheus(port) : undefined;
  if (prometheus) readers.push(prometheus);
  const meterProvider = new MeterProvider({ resource, readers });
  // Commands that finish a task or two (task cancel, step resolve) record them in the main thread.
  const taskSpans =
    endpoint && role !== 'cli'
      ? startTaskSpanThread(traceSettings, inlineTaskSpanSink(tracerProvider.getTracer(TASKER_TRACER)))
      : undefined;

  // Global providers, but no context manager: nothing in a CLI process starts active spans,
  // and on Node 20 AsyncLocalStorage's promise hooks would slow every await of the engine.
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);

  return {
    tracerProvider,
    meterProvider,
    taskSpans,
    prometheusUrl: port ? `http://localhost:${port}/metrics` : undefined,
    async shutdown() {
      // An unreachable collector must not hold the process: exports get a bounded grace period.
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_GRACE_MS).unref()));
      await Promise.race([
        Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown(), taskSpans?.shutdown()]),
        grace,
      ]);
      clearTimeout(timer);
      await taskSpans?.terminate();
    },
  };
}
