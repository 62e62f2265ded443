import type { Attributes } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  MetricReader,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { createPresetIdGenerator } from '../../../src/telemetry/id-generator.js';

/** A reader the test pulls from. */
class PullReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** SDK providers whose spans and metrics a test reads back. */
export interface Recorder {
  tracerProvider: BasicTracerProvider;
  meterProvider: MeterProvider;
  spans(): ReadableSpan[];
  /** Every metric recorded so far (cumulative). */
  collect(): Promise<MetricData[]>;
  /** A counter's value for exactly these attributes; undefined when never recorded. */
  counter(name: string, attributes: Attributes): Promise<number | undefined>;
  /** Every data point of a counter, as `attributes → value`. */
  counterPoints(name: string): Promise<Array<{ attributes: Attributes; value: number }>>;
  /** A gauge's value for exactly these attributes; undefined when not observed. */
  gauge(name: string, attributes: Attributes): Promise<number | undefined>;
  /** Count of a histogram for these attributes (0 when never recorded). */
  histogramCount(name: string, attributes: Attributes): Promise<number>;
  shutdown(): Promise<void>;
}

function sameAttributes(a: Attributes, b: Attributes): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

/** In-memory span exporter (simple processor, Tasker's id generator) and a pull metric reader. */
export function createRecorder(): Recorder {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    idGenerator: createPresetIdGenerator(),
    spanLimits: { eventCountLimit: 10_000 },
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const reader = new PullReader({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const collect = async (): Promise<MetricData[]> => {
    const { resourceMetrics, errors } = await reader.collect();
    if (errors.length > 0) throw new Error(`metric collection failed: ${String(errors[0])}`);
    return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
  };
  const find = async (name: string): Promise<MetricData | undefined> =>
    (await collect()).find((metric) => metric.descriptor.name === name);
  const point = async (name: string, type: DataPointType, attributes: Attributes) => {
    const metric = await find(name);
    if (metric === undefined) return undefined;
    if (metric.dataPointType !== type) throw new Error(`${name} is a ${metric.dataPointType}, not a ${type}`);
    return (metric.dataPoints as Array<{ attributes: Attributes; value: unknown }>).find((p) =>
      sameAttributes(p.attributes, attributes),
    );
  };
  return {
    tracerProvider,
    meterProvider,
    spans: () => exporter.getFinishedSpans(),
    collect,
    async counter(name, attributes) {
      return (await point(name, DataPointType.SUM, attributes))?.value as number | undefined;
    },
    async counterPoints(name) {
      const metric = await find(name);
      if (metric === undefined) return [];
      return (metric.dataPoints as Array<{ attributes: Attributes; value: number }>).map((p) => ({
        attributes: p.attributes,
        value: p.value,
      }));
    },
    async gauge(name, attributes) {
      return (await point(name, DataPointType.GAUGE, attributes))?.value as number | undefined;
    },
    async histogramCount(name, attributes) {
      const found = await point(name, DataPointType.HISTOGRAM, attributes);
      return (found?.value as { count: number } | undefined)?.count ?? 0;
    },
    async shutdown() {
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}
