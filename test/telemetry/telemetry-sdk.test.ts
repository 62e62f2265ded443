import { createServer } from 'node:net';
import { metrics, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { otlpProtocol, startTelemetrySdk } from '../../src/cli/telemetry-sdk.js';
import { configSchema } from '../../src/config/schema.js';
import { TaskerError } from '../../src/errors.js';

const telemetry = configSchema.parse({ telemetry: { enabled: true } }).telemetry;

async function rejection(promise: Promise<unknown>): Promise<TaskerError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(TaskerError);
  return error as TaskerError;
}

describe("the CLI's OpenTelemetry SDK", () => {
  afterEach(() => {
    trace.disable();
    metrics.disable();
  });

  it('exports protobuf unless OTEL_EXPORTER_OTLP_PROTOCOL asks for JSON, and refuses anything else', () => {
    expect(otlpProtocol({})).toBe('http/protobuf');
    expect(otlpProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toBe('http/json');
    expect(() => otlpProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(
      /^environment variable OTEL_EXPORTER_OTLP_PROTOCOL: expected http\/protobuf or http\/json .*got "grpc"$/,
    );
  });

  it('names OTEL_METRIC_EXPORT_INTERVAL when it is not a positive number of milliseconds', async () => {
    const error = await rejection(
      startTelemetrySdk(telemetry, 'cli', { OTEL_METRIC_EXPORT_INTERVAL: '1.5s' }),
    );
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('OTEL_METRIC_EXPORT_INTERVAL');
    expect(error.message).toContain('"1.5s"');
  });

  it('names telemetry.prometheus_port when the port is taken, and registers nothing', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const error = await rejection(startTelemetrySdk({ ...telemetry, prometheus_port: port }, 'worker', {}));
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.message).toMatch(
        new RegExp(`^telemetry\\.prometheus_port ${port}: cannot serve /metrics`),
      );
      expect(trace.getTracer('x').startSpan('probe').isRecording()).toBe(false);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });

  it('registers global providers that record, and shuts them down', async () => {
    const sdk = await startTelemetrySdk(telemetry, 'cli', {});
    const span = trace.getTracer('x').startSpan('probe');
    expect(span.isRecording()).toBe(true);
    span.end();
    expect(sdk.prometheusUrl).toBeUndefined();
    await sdk.shutdown();
  });
});
