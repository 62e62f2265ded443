import {
  metrics,
  type Attributes,
  type BatchObservableResult,
  type Histogram,
  type Meter,
  type ObservableCounter,
} from '@opentelemetry/api';
import { TaskerError } from '../../errors.js';
import type { DeliveryMode } from '../../templates/types.js';
import type { DomainEvent } from './envelope.js';

/*
 * Domain event delivery metrics, through `@opentelemetry/api` only: without an SDK wired at
 * the entry point every call lands in the API's no-op meter. Instruments are created when
 * the metrics object is, so create it after the SDK's MeterProvider is registered.
 */

/** The `events.metrics` section of the configuration (spec 6.1). */
export interface DomainEventMetricsConfig {
  /** When false every method is a no-op and no instrument is created. */
  enabled: boolean;
  /** Upper bounds, in seconds, of the delivery latency histogram buckets, ascending. */
  histogram_buckets: readonly number[];
}

/** Spec 6.1 defaults. */
export const DEFAULT_DOMAIN_EVENT_METRICS_CONFIG: DomainEventMetricsConfig = {
  enabled: true,
  histogram_buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0],
};

/** Metric names, for dashboards and tests. */
export const DOMAIN_EVENT_METRIC_NAMES = {
  published: 'tasker.domain_events.published.total',
  delivered: 'tasker.domain_events.delivered.total',
  failed: 'tasker.domain_events.failed.total',
  dropped: 'tasker.domain_events.dropped.total',
  deliveryDuration: 'tasker.domain_events.delivery.duration',
} as const;

/**
 * Records what happens to domain events. Every metric carries the attributes `namespace`,
 * `event_name` and `delivery_mode` (the declared mode for `published`, the subscription's
 * path for the others).
 */
export interface DomainEventMetrics {
  /** False when disabled: callers may skip work done only for metrics (timestamps). */
  readonly enabled: boolean;
  /** An event was published by a step (counted once, by the publisher). */
  published(event: DomainEvent, mode: DeliveryMode): void;
  /** A subscriber handled the event; `seconds` is the time from publish to handled. */
  delivered(event: DomainEvent, mode: DeliveryMode, seconds: number): void;
  /** A subscriber threw, rejected or timed out on the event. */
  failed(event: DomainEvent, mode: DeliveryMode): void;
  /** The event was dropped for one subscriber (its buffer was full). */
  dropped(event: DomainEvent, mode: DeliveryMode): void;
}

/** Where instruments come from; defaults to `metrics.getMeter('tasker')`. */
export interface DomainEventMetricsOptions {
  meter?: Meter;
}

const noop = (): void => {};

/** Metrics that record nothing. */
export const NOOP_DOMAIN_EVENT_METRICS: DomainEventMetrics = {
  enabled: false,
  published: noop,
  delivered: noop,
  failed: noop,
  dropped: noop,
};

const MODE_INDEX: Record<DeliveryMode, number> = { fire_and_forget: 0, durable: 1, acknowledged: 2 };

/**
 * Creates the domain event instruments from the `events.metrics` configuration. Throws
 * TaskerError `CONFIG_INVALID` for bucket bounds that are empty, not finite or not ascending.
 */
export function createDomainEventMetrics(
  config: DomainEventMetricsConfig = DEFAULT_DOMAIN_EVENT_METRICS_CONFIG,
  options: DomainEventMetricsOptions = {},
): DomainEventMetrics {
  if (!config.enabled) return NOOP_DOMAIN_EVENT_METRICS;
  checkBuckets(config.histogram_buckets);
  const meter = options.meter ?? metrics.getMeter('tasker');

  const counters = {
    published: meter.createObservableCounter(DOMAIN_EVENT_METRIC_NAMES.published, {
      description: 'Domain events published by steps.',
    }),
    delivered: meter.createObservableCounter(DOMAIN_EVENT_METRIC_NAMES.delivered, {
      description: 'Domain events handled by a subscriber without error.',
    }),
    failed: meter.createObservableCounter(DOMAIN_EVENT_METRIC_NAMES.failed, {
      description: 'Domain event deliveries whose subscriber threw, rejected or timed out.',
    }),
    dropped: meter.createObservableCounter(DOMAIN_EVENT_METRIC_NAMES.dropped, {
      description: 'Domain events dropped for a subscriber whose buffer was full.',
    }),
  };
  const duration = meter.createHistogram(DOMAIN_EVENT_METRIC_NAMES.deliveryDuration, {
    description: 'Time from publishing a domain event to a subscriber having handled it.',
    unit: 's',
    advice: { explicitBucketBoundaries: [...config.histogram_buckets] },
  });
  const recorder = new OtelDomainEventMetrics(duration);
  meter.addBatchObservableCallback((result) => recorder.report(result, counters), Object.values(counters));
  return recorder;
}

function checkBuckets(buckets: readonly number[]): void {
  const where = 'events.metrics.histogram_buckets';
  if (!Array.isArray(buckets) || buckets.length === 0) {
    throw new TaskerError('CONFIG_INVALID', `${where}: expected a non-empty list of seconds`);
  }
  buckets.forEach((bound, i) => {
    if (typeof bound !== 'number' || !Number.isFinite(bound)) {
      throw new TaskerError(
        'CONFIG_INVALID',
        `${where}[${i}]: expected a finite number, got ${String(bound)}`,
      );
    }
    if (i > 0 && bound <= buckets[i - 1]!) {
      throw new TaskerError('CONFIG_INVALID', `${where}[${i}]: bounds must be strictly ascending`);
    }
  });
}

/** Totals of one attribute set (namespace, event name, delivery mode). */
interface Tally {
  readonly attributes: Attributes;
  published: number;
  delivered: number;
  failed: number;
  dropped: number;
}

type Counters = Record<'published' | 'delivered' | 'failed' | 'dropped', ObservableCounter>;

/**
 * Counts in plain numbers per attribute set, reported to OpenTelemetry as asynchronous
 * (observable) counters when a reader collects: a synchronous `Counter.add` costs about 1.5 µs
 * per call with the SDK (it hashes the attributes every time), which capped delivery at ~330k
 * events/s. The exported data is the same monotonic, cumulative sum. The latency histogram
 * still records every delivery.
 */
class OtelDomainEventMetrics implements DomainEventMetrics {
  readonly enabled = true;
  // namespace -> event name -> tally per delivery mode (event names are declared, so bounded)
  private readonly tallies = new Map<string, Map<string, Tally[]>>();
  private readonly all: Tally[] = [];

  constructor(private readonly duration: Histogram) {}

  published(event: DomainEvent, mode: DeliveryMode): void {
    this.tallyOf(event, mode).published += 1;
  }

  delivered(event: DomainEvent, mode: DeliveryMode, seconds: number): void {
    const tally = this.tallyOf(event, mode);
    tally.delivered += 1;
    this.duration.record(seconds, tally.attributes);
  }

  failed(event: DomainEvent, mode: DeliveryMode): void {
    this.tallyOf(event, mode).failed += 1;
  }

  dropped(event: DomainEvent, mode: DeliveryMode): void {
    this.tallyOf(event, mode).dropped += 1;
  }

  /** Hands the totals to a collecting reader; a series appears once it is non-zero. */
  report(result: BatchObservableResult, counters: Counters): void {
    for (const tally of this.all) {
      if (tally.published > 0) result.observe(counters.published, tally.published, tally.attributes);
      if (tally.delivered > 0) result.observe(counters.delivered, tally.delivered, tally.attributes);
      if (tally.failed > 0) result.observe(counters.failed, tally.failed, tally.attributes);
      if (tally.dropped > 0) result.observe(counters.dropped, tally.dropped, tally.attributes);
    }
  }

  private tallyOf(event: DomainEvent, mode: DeliveryMode): Tally {
    const namespace = event.metadata.namespace;
    let byName = this.tallies.get(namespace);
    if (byName === undefined) {
      byName = new Map();
      this.tallies.set(namespace, byName);
    }
    let byMode = byName.get(event.name);
    if (byMode === undefined) {
      byMode = [];
      byName.set(event.name, byMode);
    }
    const index = MODE_INDEX[mode];
    let tally = byMode[index];
    if (tally === undefined) {
      const attributes = Object.freeze({ namespace, event_name: event.name, delivery_mode: mode });
      tally = { attributes, published: 0, delivered: 0, failed: 0, dropped: 0 };
      byMode[index] = tally;
      this.all.push(tally);
    }
    return tally;
  }
}
