import { describe, expect, it } from 'vitest';
import { createBroadcast, type BroadcastOptions } from '../../src/events/domain/broadcast.js';
import { createDomainEvent, type DomainEvent } from '../../src/events/domain/envelope.js';
import { createDomainEventMetrics, DOMAIN_EVENT_METRIC_NAMES } from '../../src/events/domain/metrics.js';
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

/** Event number `n` (its payload). */
function event(n: number, name = 'payment.charged'): DomainEvent<number> {
  return createDomainEvent(name, n, source);
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets queued macrotasks (the broadcast's drains) run a few times. */
async function ticks(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/** Captures warn calls instead of printing them. */
function captureLogger() {
  const warnings: { details: Record<string, unknown>; message: string }[] = [];
  return {
    warnings,
    logger: {
      warn(details: object, message: string) {
        warnings.push({ details: details as Record<string, unknown>, message });
      },
    },
  };
}

/**
 * A subscriber stuck on its first event until `release()`: it records payloads, and
 * `started` resolves when the first call is in progress.
 */
function stuckSubscriber() {
  const received: number[] = [];
  const first = deferred();
  const gate = deferred();
  return {
    received,
    started: first.promise,
    release: gate.resolve,
    handler: (e: DomainEvent): Promise<void> | undefined => {
      received.push(e.payload as number);
      if (received.length === 1) {
        first.resolve();
        return gate.promise;
      }
      return undefined;
    },
  };
}

function broadcastOf(options: Partial<BroadcastOptions> & Pick<BroadcastOptions, 'overflowStrategy'>) {
  const { logger } = captureLogger();
  return createBroadcast({ bufferSize: 3, logger, ...options });
}

describe('createBroadcast', () => {
  it('delivers every event to every subscriber, in order, never on the publisher stack', async () => {
    const broadcast = broadcastOf({ overflowStrategy: 'drop_oldest', bufferSize: 100 });
    const a: number[] = [];
    const b: number[] = [];
    broadcast.addSubscriber('a', (e) => void a.push(e.payload as number));
    broadcast.addSubscriber('b', async (e) => {
      await Promise.resolve();
      b.push(e.payload as number);
    });
    for (let n = 1; n <= 50; n++) expect(broadcast.publish(event(n))).toBeUndefined();
    expect(a).toEqual([]); // nothing ran synchronously
    await broadcast.idle();
    const all = Array.from({ length: 50 }, (_, i) => i + 1);
    expect(a).toEqual(all);
    expect(b).toEqual(all);
    expect(broadcast.stats()).toEqual([
      { id: 'a', queued: 0, delivered: 50, failed: 0, dropped: 0 },
      { id: 'b', queued: 0, delivered: 50, failed: 0, dropped: 0 },
    ]);
  });

  it('publishes only to the given subscribers', async () => {
    const broadcast = broadcastOf({ overflowStrategy: 'drop_oldest' });
    const a: number[] = [];
    const b: number[] = [];
    const subA = broadcast.addSubscriber('a', (e) => void a.push(e.payload as number));
    broadcast.addSubscriber('b', (e) => void b.push(e.payload as number));
    void broadcast.publish(event(1), [subA]);
    void broadcast.publish(event(2));
    await broadcast.idle();
    expect(a).toEqual([1, 2]);
    expect(b).toEqual([2]);
  });

  it('drop_oldest: a stuck subscriber keeps the newest bufferSize events and counts the dropped', async () => {
    const broadcast = broadcastOf({ overflowStrategy: 'drop_oldest' });
    const stuck = stuckSubscriber();
    broadcast.addSubscriber('stuck', stuck.handler);
    void broadcast.publish(event(1));
    await stuck.started;
    for (let n = 2; n <= 10; n++) expect(broadcast.publish(event(n))).toBeUndefined();
    expect(broadcast.stats()[0]).toMatchObject({ queued: 3, dropped: 6 });
    stuck.release();
    await broadcast.idle();
    expect(stuck.received).toEqual([1, 8, 9, 10]);
    expect(broadcast.stats()[0]).toEqual({ id: 'stuck', queued: 0, delivered: 4, failed: 0, dropped: 6 });
  });

  it('drop_newest: a stuck subscriber keeps the first bufferSize events and counts the dropped', async () => {
    const broadcast = broadcastOf({ overflowStrategy: 'drop_newest' });
    const stuck = stuckSubscriber();
    broadcast.addSubscriber('stuck', stuck.handler);
    void broadcast.publish(event(1));
    await stuck.started;
    for (let n = 2; n <= 10; n++) expect(broadcast.publish(event(n))).toBeUndefined();
    stuck.release();
    await broadcast.idle();
    expect(stuck.received).toEqual([1, 2, 3, 4]);
    expect(broadcast.stats()[0]).toEqual({ id: 'stuck', queued: 0, delivered: 4, failed: 0, dropped: 6 });
  });

  it('block: publish waits while a stuck subscriber is full, then everything arrives in order', async () => {
    const broadcast = broadcastOf({ overflowStrategy: 'block' });
    const stuck = stuckSubscriber();
    broadcast.addSubscriber('stuck', stuck.handler);
    expect(broadcast.publish(event(1))).toBeUndefined();
    await stuck.started;
    for (let n = 2; n <= 4; n++) expect(broadcast.publish(event(n))).toBeUndefined();
    const fifth = broadcast.publish(event(5));
    const sixth = broadcast.publish(event(6));
    expect(fifth).toBeInstanceOf(Promise);
    expect(sixth).toBeInstanceOf(Promise);
    const done: number[] = [];
    void fifth!.then(() => done.push(5));
    void sixth!.then(() => done.push(6));
    await ticks();
    expect(done).toEqual([]); // still blocked: the subscriber has not moved
    stuck.release();
    await Promise.all([fifth, sixth]);
    await broadcast.idle();
    expect(done).toEqual([5, 6]);
    expect(stuck.received).toEqual([1, 2, 3, 4, 5, 6]);
    expect(broadcast.stats()[0]).toMatchObject({ delivered: 6, dropped: 0 });
  });

  it('block: a hung subscriber cannot deadlock the publisher (handler timeout)', async () => {
    const { logger, warnings } = captureLogger();
    const broadcast = createBroadcast({
      bufferSize: 1,
      overflowStrategy: 'block',
      handlerTimeoutMs: 10,
      logger,
    });
    const healthy: number[] = [];
    broadcast.addSubscriber('hung', () => new Promise<void>(() => {}));
    broadcast.addSubscriber('healthy', (e) => void healthy.push(e.payload as number));
    for (let n = 1; n <= 4; n++) await broadcast.publish(event(n));
    await broadcast.idle();
    expect(healthy).toEqual([1, 2, 3, 4]);
    expect(broadcast.stats()).toEqual([
      { id: 'hung', queued: 0, delivered: 0, failed: 4, dropped: 0 },
      { id: 'healthy', queued: 0, delivered: 4, failed: 0, dropped: 0 },
    ]);
    expect(warnings[0]?.message).toMatch(/subscriber failed/);
    expect(String(warnings[0]?.details.err)).toMatch(/did not settle within 10 ms/);
  });

  it('a slow subscriber drops only its own events', async () => {
    const broadcast = broadcastOf({ overflowStrategy: 'drop_newest', bufferSize: 2 });
    const stuck = stuckSubscriber();
    const fast: number[] = [];
    broadcast.addSubscriber('slow', stuck.handler);
    broadcast.addSubscriber('fast', (e) => void fast.push(e.payload as number));
    void broadcast.publish(event(1));
    await stuck.started;
    for (let n = 2; n <= 6; n++) {
      void broadcast.publish(event(n));
      await ticks(1); // let the fast one keep up
    }
    stuck.release();
    await broadcast.idle();
    expect(fast).toEqual([1, 2, 3, 4, 5, 6]);
    expect(stuck.received).toEqual([1, 2, 3]);
    expect(broadcast.stats().map((s) => [s.id, s.dropped])).toEqual([
      ['slow', 3],
      ['fast', 0],
    ]);
  });

  it('throwing and rejecting subscribers are logged and counted, and disturb no one', async () => {
    const { logger, warnings } = captureLogger();
    const broadcast = createBroadcast({ bufferSize: 10, overflowStrategy: 'drop_oldest', logger });
    const healthy: number[] = [];
    broadcast.addSubscriber('thrower', () => {
      throw new Error('boom');
    });
    broadcast.addSubscriber('rejecter', () => Promise.reject(new Error('nope')));
    broadcast.addSubscriber('healthy', (e) => void healthy.push(e.payload as number));
    for (let n = 1; n <= 5; n++) expect(() => broadcast.publish(event(n))).not.toThrow();
    await broadcast.idle();
    expect(healthy).toEqual([1, 2, 3, 4, 5]);
    expect(broadcast.stats().map((s) => [s.id, s.delivered, s.failed])).toEqual([
      ['thrower', 0, 5],
      ['rejecter', 0, 5],
      ['healthy', 5, 0],
    ]);
    // The first failure of each subscriber is logged with the event; repeats are throttled.
    expect(warnings.map((w) => w.details.subscriber)).toEqual(['thrower', 'rejecter']);
    expect(warnings[0]?.details).toMatchObject({ event_name: 'payment.charged', subscriber: 'thrower' });
    expect(String(warnings[0]?.details.err)).toContain('boom');
    expect(String(warnings[1]?.details.err)).toContain('nope');
  });

  it('removing a subscriber discards its queue and releases blocked publishers', async () => {
    const broadcast = broadcastOf({ overflowStrategy: 'block', bufferSize: 1 });
    const stuck = stuckSubscriber();
    const handle = broadcast.addSubscriber('stuck', stuck.handler);
    void broadcast.publish(event(1));
    await stuck.started;
    void broadcast.publish(event(2));
    const blocked = broadcast.publish(event(3));
    expect(blocked).toBeInstanceOf(Promise);
    broadcast.removeSubscriber(handle);
    await blocked;
    stuck.release();
    await broadcast.idle();
    expect(stuck.received).toEqual([1]);
    expect(broadcast.stats()).toEqual([]);
    expect(broadcast.publish(event(4), [handle])).toBeUndefined();
  });

  it('grows queues on demand up to bufferSize', async () => {
    const broadcast = broadcastOf({ overflowStrategy: 'drop_newest', bufferSize: 1000 });
    const received: number[] = [];
    broadcast.addSubscriber('s', (e) => void received.push(e.payload as number));
    for (let n = 1; n <= 1005; n++) void broadcast.publish(event(n));
    expect(broadcast.stats()[0]).toMatchObject({ queued: 1000, dropped: 5 });
    await broadcast.idle();
    expect(received).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
  });

  it('refuses a bad configuration', () => {
    const bad: [Partial<BroadcastOptions>, RegExp][] = [
      [{ bufferSize: 0 }, /events\.fire_and_forget\.buffer_size: expected a positive integer, got 0/],
      [{ bufferSize: 1.5 }, /buffer_size/],
      [
        { overflowStrategy: 'drop' as never },
        /overflow_strategy: expected drop_oldest, drop_newest or block, got drop/,
      ],
      [{ handlerTimeoutMs: 0 }, /handlerTimeoutMs/],
    ];
    for (const [options, message] of bad) {
      expect(() => createBroadcast({ bufferSize: 3, overflowStrategy: 'block', ...options })).toThrow(
        message,
      );
      expect(() => createBroadcast({ bufferSize: 3, overflowStrategy: 'block', ...options })).toThrow(
        TaskerError,
      );
    }
  });
});

describe('broadcast metrics', () => {
  it('counts delivered, failed and dropped per event and records publish-to-handled latency', async () => {
    const recorded = recordMetrics();
    const metrics = createDomainEventMetrics(
      { enabled: true, histogram_buckets: [0.01, 0.1, 1] },
      { meter: recorded.meter },
    );
    const { logger } = captureLogger();
    const broadcast = createBroadcast({ bufferSize: 2, overflowStrategy: 'drop_newest', metrics, logger });
    const stuck = stuckSubscriber();
    broadcast.addSubscriber('stuck', stuck.handler);
    broadcast.addSubscriber('failing', () => {
      throw new Error('boom');
    });
    void broadcast.publish(event(1));
    await stuck.started;
    await ticks(); // the failing subscriber has had event 1 too
    void broadcast.publish(event(2, 'payment.refunded'));
    for (let n = 3; n <= 6; n++) void broadcast.publish(event(n)); // both queues hold 2 and 3, drop 4-6
    stuck.release();
    await broadcast.idle();

    const charged = {
      namespace: 'payments',
      event_name: 'payment.charged',
      delivery_mode: 'fire_and_forget',
    };
    const refunded = { ...charged, event_name: 'payment.refunded' };
    const { delivered, failed, dropped, deliveryDuration } = DOMAIN_EVENT_METRIC_NAMES;
    expect(stuck.received).toEqual([1, 2, 3]);
    expect(await recorded.counter(delivered, charged)).toBe(2);
    expect(await recorded.counter(delivered, refunded)).toBe(1);
    expect(await recorded.counter(failed, charged)).toBe(2);
    expect(await recorded.counter(failed, refunded)).toBe(1);
    expect(await recorded.counter(dropped, charged)).toBe(6);
    expect(await recorded.counter(dropped, refunded)).toBe(0);
    expect(await recorded.histogram(deliveryDuration, charged)).toEqual({
      count: 2,
      boundaries: [0.01, 0.1, 1],
    });
  });
});
