import type { Attributes, Meter } from '@opentelemetry/api';
import { DataPointType, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';

/** A reader the test pulls from: `collect()` returns what the instruments recorded so far. */
class PullReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** An OpenTelemetry SDK meter provider whose recordings the test reads back. */
export interface RecordedMetrics {
  provider: MeterProvider;
  meter: Meter;
  /** Every metric recorded so far (cumulative). */
  collect(): Promise<MetricData[]>;
  /** The sum of a counter for exactly these attributes (0 when never recorded). */
  counter(name: string, attributes: Attributes): Promise<number>;
  /** Count and bucket boundaries of a histogram for these attributes. */
  histogram(name: string, attributes: Attributes): Promise<{ count: number; boundaries: number[] }>;
}

function sameAttributes(a: Attributes, b: Attributes): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

/** Creates an SDK MeterProvider with an in-memory, pull-based reader. */
export function recordMetrics(): RecordedMetrics {
  const reader = new PullReader();
  const provider = new MeterProvider({ readers: [reader] });
  const collect = async (): Promise<MetricData[]> => {
    const { resourceMetrics } = await reader.collect();
    return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
  };
  const find = async (name: string) => (await collect()).find((m) => m.descriptor.name === name);
  return {
    provider,
    meter: provider.getMeter('tasker'),
    collect,
    async counter(name, attributes) {
      const metric = await find(name);
      if (metric === undefined) return 0;
      if (metric.dataPointType !== DataPointType.SUM) throw new Error(`${name} is not a counter`);
      const point = metric.dataPoints.find((p) => sameAttributes(p.attributes, attributes));
      return point?.value ?? 0;
    },
    async histogram(name, attributes) {
      const metric = await find(name);
      if (metric?.dataPointType !== DataPointType.HISTOGRAM) throw new Error(`${name} is not a histogram`);
      const point = metric.dataPoints.find((p) => sameAttributes(p.attributes, attributes));
      return { count: point?.value.count ?? 0, boundaries: point?.value.buckets.boundaries ?? [] };
    },
  };
}
