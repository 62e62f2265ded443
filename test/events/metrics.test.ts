import { metrics } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { createDomainEvent } from '../../src/events/domain/envelope.js';
import {
  createDomainEventMetrics,
  DEFAULT_DOMAIN_EVENT_METRICS_CONFIG,
  DOMAIN_EVENT_METRIC_NAMES,
  NOOP_DOMAIN_EVENT_METRICS,
} from '../../src/events/domain/metrics.js';
import { TaskerError } from '../../src/errors.js';
import { recordMetrics } from './support/metric-reader.js';

const source = {
  taskUuid: '0190a000-0000-7000-8000-000000000001',
  stepUuid: '0190a000-0000-7000-8000-000000000002',
  stepName: 'charge_card',
  namespace: 'payments',
  correlationId: 'corr-1',
  firedBy: 'worker-test',
};
const charged = createDomainEvent('payment.charged', {}, source);
const shipped = createDomainEvent('order.shipped', {}, { ...source, namespace: 'orders' });
const attrs = (namespace: string, event_name: string, delivery_mode: string) => ({
  namespace,
  event_name,
  delivery_mode,
});

describe('createDomainEventMetrics', () => {
  it('counts per namespace, event name and delivery mode', async () => {
    const recorded = recordMetrics();
    const m = createDomainEventMetrics(DEFAULT_DOMAIN_EVENT_METRICS_CONFIG, { meter: recorded.meter });
    m.published(charged, 'durable');
    m.published(charged, 'durable');
    m.published(shipped, 'fire_and_forget');
    m.delivered(charged, 'durable', 0.002);
    m.delivered(charged, 'fire_and_forget', 0.2);
    m.failed(shipped, 'fire_and_forget');
    m.dropped(shipped, 'fire_and_forget');
    m.dropped(shipped, 'fire_and_forget');

    const { published, delivered, failed, dropped, deliveryDuration } = DOMAIN_EVENT_METRIC_NAMES;
    expect(await recorded.counter(published, attrs('payments', 'payment.charged', 'durable'))).toBe(2);
    expect(await recorded.counter(published, attrs('orders', 'order.shipped', 'fire_and_forget'))).toBe(1);
    expect(await recorded.counter(delivered, attrs('payments', 'payment.charged', 'durable'))).toBe(1);
    expect(await recorded.counter(delivered, attrs('payments', 'payment.charged', 'fire_and_forget'))).toBe(
      1,
    );
    expect(await recorded.counter(failed, attrs('orders', 'order.shipped', 'fire_and_forget'))).toBe(1);
    expect(await recorded.counter(dropped, attrs('orders', 'order.shipped', 'fire_and_forget'))).toBe(2);
    const histogram = await recorded.histogram(
      deliveryDuration,
      attrs('payments', 'payment.charged', 'durable'),
    );
    expect(histogram).toEqual({ count: 1, boundaries: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0] });
    const names = (await recorded.collect()).map((metric) => [
      metric.descriptor.name,
      metric.descriptor.unit,
    ]);
    expect(names).toContainEqual([deliveryDuration, 's']);
  });

  it('uses the configured histogram buckets', async () => {
    const recorded = recordMetrics();
    const m = createDomainEventMetrics(
      { enabled: true, histogram_buckets: [0.25, 2.5] },
      { meter: recorded.meter },
    );
    m.delivered(charged, 'fire_and_forget', 1);
    const histogram = await recorded.histogram(
      DOMAIN_EVENT_METRIC_NAMES.deliveryDuration,
      attrs('payments', 'payment.charged', 'fire_and_forget'),
    );
    expect(histogram).toEqual({ count: 1, boundaries: [0.25, 2.5] });
  });

  it('records through the global meter provider by default', async () => {
    const recorded = recordMetrics();
    expect(metrics.setGlobalMeterProvider(recorded.provider)).toBe(true);
    try {
      createDomainEventMetrics().published(charged, 'acknowledged');
      expect(
        await recorded.counter(
          DOMAIN_EVENT_METRIC_NAMES.published,
          attrs('payments', 'payment.charged', 'acknowledged'),
        ),
      ).toBe(1);
    } finally {
      metrics.disable();
    }
  });

  it('is a no-op when disabled', async () => {
    const recorded = recordMetrics();
    const m = createDomainEventMetrics({ enabled: false, histogram_buckets: [] }, { meter: recorded.meter });
    expect(m).toBe(NOOP_DOMAIN_EVENT_METRICS);
    expect(m.enabled).toBe(false);
    m.published(charged, 'durable');
    m.delivered(charged, 'durable', 1);
    m.failed(charged, 'durable');
    m.dropped(charged, 'durable');
    expect(await recorded.collect()).toEqual([]);
  });

  it('refuses bad histogram buckets', () => {
    const bad: [number[], string][] = [
      [[], 'events.metrics.histogram_buckets: expected a non-empty list of seconds'],
      [[0.1, Number.NaN], 'events.metrics.histogram_buckets[1]: expected a finite number, got NaN'],
      [[0.5, 0.1], 'events.metrics.histogram_buckets[1]: bounds must be strictly ascending'],
      [[0.1, 0.1], 'events.metrics.histogram_buckets[1]: bounds must be strictly ascending'],
    ];
    for (const [histogram_buckets, message] of bad) {
      expect(() => createDomainEventMetrics({ enabled: true, histogram_buckets })).toThrow(message);
      expect(() => createDomainEventMetrics({ enabled: true, histogram_buckets })).toThrow(TaskerError);
    }
  });
});
