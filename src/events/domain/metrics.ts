import { metrics, type Attributes, type Counter, type Histogram, type Meter } from '@opentelemetry/api';
import { TaskerError } from '../../errors.js';
import type { DeliveryMode, DomainEvent } from './envelope.js';

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

  const published = meter.createCounter(DOMAIN_EVENT_METRIC_NAMES.published, {
    description: 'Domain events published by steps.',
  });
  const delivered = meter.createCounter(DOMAIN_EVENT_METRIC_NAMES.delivered, {
    description: 'Domain events handled by a subscriber without error.',
  });
  const failed = meter.createCounter(DOMAIN_EVENT_METRIC_NAMES.failed, {
    description: 'Domain event deliveries whose subscriber threw, rejected or timed out.',
  });
  const dropped = meter.createCounter(DOMAIN_EVENT_METRIC_NAMES.dropped, {
    description: 'Domain events dropped for a subscriber whose buffer was full.',
  });
  const duration = meter.createHistogram(DOMAIN_EVENT_METRIC_NAMES.deliveryDuration, {
    description: 'Time from publishing a domain event to a subscriber having handled it.',
    unit: 's',
    advice: { explicitBucketBoundaries: [...config.histogram_buckets] },
  });
  return new OtelDomainEventMetrics(published, delivered, failed, dropped, duration);
}

function checkBuckets(buckets: readonly number[]): void {
  const where = 'events.metrics.histogram_buckets';
  if (!Array.isArray(buckets) || buckets.length === 0) {
    throw new TaskerError('CONFIG_INVALID', `${where}: expected a non-empty list of seconds`);
  }
  buckets.forEach((bound, i) => {
    if (typeof bound !== 'number' || !Number.isFinite(bound)) {
      throw new TaskerError('CONFIG_INVALID', `${where}[${i}]: expected a finite number, got ${String(bound)}`);
    }
    if (i > 0 && bound <= buckets[i - 1]!) {
      throw new TaskerError('CONFIG_INVALID', `${where}[${i}]: bounds must be strictly ascending`);
    }
  });
}

/** Instruments plus a cache of attribute sets, so the hot path allocates nothing. */
class OtelDomainEventMetrics implements DomainEventMetrics {
  readonly enabled = true;
  // namespace -> event name -> attributes per delivery mode (event names are declared, so bounded)
  private readonly attributes = new Map<string, Map<string, Attributes[]>>();

  constructor(
    private readonly publishedCounter: Counter,
    private readonly deliveredCounter: Counter,
    private readonly failedCounter: Counter,
    private readonly droppedCounter: Counter,
    private readonly duration: Histogram,
  ) {}

  published(event: DomainEvent, mode: DeliveryMode): void {
    this.publishedCounter.add(1, this.attributesOf(event, mode));
  }

  delivered(event: DomainEvent, mode: DeliveryMode, seconds: number): void {
    const attributes = this.attributesOf(event, mode);
    this.deliveredCounter.add(1, attributes);
    this.duration.record(seconds, attributes);
  }

  failed(event: DomainEvent, mode: DeliveryMode): void {
    this.failedCounter.add(1, this.attributesOf(event, mode));
  }

  dropped(event: DomainEvent, mode: DeliveryMode): void {
    this.droppedCounter.add(1, this.attributesOf(event, mode));
  }

  private attributesOf(event: DomainEvent, mode: DeliveryMode): Attributes {
    const namespace = event.metadata.namespace;
    let byName = this.attributes.get(namespace);
    if (byName === undefined) {
      byName = new Map();
      this.attributes.set(namespace, byName);
    }
    let byMode = byName.get(event.name);
    if (byMode === undefined) {
      byMode = [];
      byName.set(event.name, byMode);
    }
    const index = MODE_INDEX[mode];
    let attributes = byMode[index];
    if (attributes === undefined) {
      attributes = Object.freeze({ namespace, event_name: event.name, delivery_mode: mode });
      byMode[index] = attributes;
    }
    return attributes;
  }
}
