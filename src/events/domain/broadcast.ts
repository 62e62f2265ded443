import { performance } from 'node:perf_hooks';
import { TaskerError } from '../../errors.js';
import { logger as defaultLogger } from '../../logging/logger.js';
import type { DomainEvent } from './envelope.js';
import { NOOP_DOMAIN_EVENT_METRICS, type DomainEventMetrics } from './metrics.js';

/*
 * The fire_and_forget transport: an in-process, bounded broadcast (spec 2.5, 6.1).
 *
 * - Each subscriber has its own queue of `bufferSize` events (plus the one its handler is
 *   working on), so a slow subscriber overflows, and drops, only its own events.
 * - Handlers never run on the publisher's stack: `publish` only enqueues; each subscriber's
 *   queue is drained in a later macrotask (setImmediate), in publish order, one event at a
 *   time (a handler returning a promise is awaited before the next event).
 * - A handler that throws, rejects or does not settle within `handlerTimeoutMs` is logged
 *   (logger.warn, at most once a second per subscriber) and counted as failed; the event is
 *   not redelivered and nothing reaches the publisher or the other subscribers. A handler
 *   that blocks the event loop synchronously cannot be timed out.
 * - Overflow, per subscriber: `drop_oldest` discards its oldest queued event (it keeps the
 *   newest), `drop_newest` discards the incoming one (it keeps the oldest), `block` makes
 *   `publish` return a promise that resolves once every full queue took the event. Blocking
 *   slows the publishing worker; the handler timeout bounds the wait, so a hung subscriber
 *   delays but cannot deadlock it.
 */

/** What a full subscriber queue does with one more event. */
export type OverflowStrategy = 'drop_oldest' | 'drop_newest' | 'block';

/** A subscriber's callback; a returned promise is awaited (up to the handler timeout). */
export type DomainEventHandler = (event: DomainEvent) => unknown;

/** Settings of {@link createBroadcast}. */
export interface BroadcastOptions {
  /** Queued events per subscriber (`events.fire_and_forget.buffer_size`). */
  bufferSize: number;
  /** `events.fire_and_forget.overflow_strategy`. */
  overflowStrategy: OverflowStrategy;
  /** Delivered / failed / dropped counters and latency; none by default. */
  metrics?: DomainEventMetrics;
  /** Milliseconds a handler's promise may take before it counts as failed; default 30 000. */
  handlerTimeoutMs?: number;
  /** Where subscriber failures are reported; default the Tasker logger. */
  logger?: { warn(details: object, message: string): void };
}

/** Counters of one subscriber since it was added. */
export interface SubscriberStats {
  readonly id: string;
  /** Events waiting in its queue now (not counting one being handled). */
  readonly queued: number;
  readonly delivered: number;
  readonly failed: number;
  /** Events discarded because its queue was full. */
  readonly dropped: number;
}

/** A subscriber's handle, as returned by {@link Broadcast.addSubscriber}. */
export interface BroadcastSubscriber {
  readonly id: string;
}

/** The in-process broadcast. */
export interface Broadcast {
  /** Adds a subscriber with its own empty queue. */
  addSubscriber(id: string, handler: DomainEventHandler): BroadcastSubscriber;
  /** Stops delivering to a subscriber: its queued events are discarded, blocked publishers released. */
  removeSubscriber(subscriber: BroadcastSubscriber): void;
  /**
   * Queues `event` for `subscribers` (default: all). Returns `undefined` when every queue
   * took it at once, or (`block` only) a promise that resolves when the last full queue did.
   */
  publish(event: DomainEvent, subscribers?: readonly BroadcastSubscriber[]): Promise<void> | undefined;
  /** Counters per subscriber. */
  stats(): SubscriberStats[];
  /** Resolves when every queue is empty and no handler is running (tests, graceful shutdown). */
  idle(): Promise<void>;
}

const DEFAULT_HANDLER_TIMEOUT_MS = 30_000;
const DRAIN_BUDGET = 4096; // events handled per macrotask before yielding to I/O
const INITIAL_CAPACITY = 16; // queues grow on demand up to bufferSize
const FAILURE_LOG_INTERVAL_MS = 1000;

/** Publishes waiting on full queues (`block`), resolved when the last queue took the event. */
interface BlockedPublish {
  remaining: number;
  resolve: () => void;
}

/** A publish parked at one full queue. */
interface Waiter {
  event: DomainEvent;
  time: number;
  blocked: BlockedPublish;
}

/** One subscriber: a ring buffer of events (and publish times when metrics are on). */
class Subscriber implements BroadcastSubscriber {
  events: (DomainEvent | undefined)[];
  times: Float64Array | null;
  head = 0;
  size = 0;
  mask: number;
  /** Publish time of the event `shift` returned last. */
  lastTime = 0;
  scheduled = false;
  busy = false; // an async handler call is in flight
  removed = false;
  waiters: Waiter[] = [];
  delivered = 0;
  failed = 0;
  dropped = 0;
  lastFailureLog = -Infinity;
  suppressedFailures = 0;

  constructor(
    readonly id: string,
    readonly handler: DomainEventHandler,
    readonly limit: number,
    timed: boolean,
  ) {
    const capacity = Math.min(INITIAL_CAPACITY, powerOfTwoAtLeast(limit));
    this.events = new Array<DomainEvent | undefined>(capacity).fill(undefined);
    this.times = timed ? new Float64Array(capacity) : null;
    this.mask = capacity - 1;
  }

  push(event: DomainEvent, time: number): void {
    if (this.size > this.mask) this.grow();
    const slot = (this.head + this.size) & this.mask;
    this.events[slot] = event;
    if (this.times !== null) this.times[slot] = time;
    this.size += 1;
  }

  /** Removes the oldest event; its publish time is left in `lastTime`. */
  shift(): DomainEvent {
    const slot = this.head;
    const event = this.events[slot]!;
    this.events[slot] = undefined;
    if (this.times !== null) this.lastTime = this.times[slot]!;
    this.head = (slot + 1) & this.mask;
    this.size -= 1;
    return event;
  }

  private grow(): void {
    const capacity = (this.mask + 1) * 2;
    const events = new Array<DomainEvent | undefined>(capacity).fill(undefined);
    const times = this.times === null ? null : new Float64Array(capacity);
    for (let i = 0; i < this.size; i++) {
      const from = (this.head + i) & this.mask;
      events[i] = this.events[from];
      if (times !== null) times[i] = this.times![from]!;
    }
    this.events = events;
    this.times = times;
    this.head = 0;
    this.mask = capacity - 1;
  }
}

function powerOfTwoAtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== undefined && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** Creates an in-process bounded broadcast (see the module comment for its guarantees). */
export function createBroadcast(options: BroadcastOptions): Broadcast {
  return new InProcessBroadcast(options);
}

class InProcessBroadcast implements Broadcast {
  private readonly subscribers: Subscriber[] = [];
  private readonly bufferSize: number;
  private readonly strategy: OverflowStrategy;
  private readonly metrics: DomainEventMetrics;
  private readonly timed: boolean;
  private readonly handlerTimeoutMs: number;
  private readonly logger: NonNullable<BroadcastOptions['logger']>;
  private idleWaiters: (() => void)[] = [];
  private readonly drainBound = (subscriber: Subscriber): void => this.drain(subscriber);

  constructor(options: BroadcastOptions) {
    const { bufferSize, overflowStrategy } = options;
    if (!Number.isInteger(bufferSize) || bufferSize < 1) {
      throw new TaskerError(
        'CONFIG_INVALID',
        `events.fire_and_forget.buffer_size: expected a positive integer, got ${String(bufferSize)}`,
      );
    }
    if (!['drop_oldest', 'drop_newest', 'block'].includes(overflowStrategy)) {
      throw new TaskerError(
        'CONFIG_INVALID',
        `events.fire_and_forget.overflow_strategy: expected drop_oldest, drop_newest or block, got ${String(overflowStrategy)}`,
      );
    }
    const timeout = options.handlerTimeoutMs ?? DEFAULT_HANDLER_TIMEOUT_MS;
    if (!Number.isFinite(timeout) || timeout <= 0) {
      throw new TaskerError('CONFIG_INVALID', `handlerTimeoutMs: expected a positive number, got ${timeout}`);
    }
    this.bufferSize = bufferSize;
    this.strategy = overflowStrategy;
    this.metrics = options.metrics ?? NOOP_DOMAIN_EVENT_METRICS;
    this.timed = this.metrics.enabled;
    this.handlerTimeoutMs = timeout;
    this.logger = options.logger ?? defaultLogger;
  }

  addSubscriber(id: string, handler: DomainEventHandler): BroadcastSubscriber {
    const subscriber = new Subscriber(id, handler, this.bufferSize, this.timed);
    this.subscribers.push(subscriber);
    return subscriber;
  }

  removeSubscriber(handle: BroadcastSubscriber): void {
    const subscriber = this.own(handle);
    const index = this.subscribers.indexOf(subscriber);
    if (index === -1) return;
    this.subscribers.splice(index, 1);
    subscriber.removed = true;
    while (subscriber.size > 0) subscriber.shift();
    for (const waiter of subscriber.waiters) this.release(waiter.blocked);
    subscriber.waiters = [];
    this.checkIdle();
  }

  publish(event: DomainEvent, targets?: readonly BroadcastSubscriber[]): Promise<void> | undefined {
    const list = targets ?? this.subscribers;
    const time = this.timed ? performance.now() : 0;
    let blocked: BlockedPublish | undefined;
    let promise: Promise<void> | undefined;
    for (let i = 0; i < list.length; i++) {
      const subscriber = list[i] as Subscriber;
      if (subscriber.removed) continue;
      if (subscriber.size < subscriber.limit && subscriber.waiters.length === 0) {
        subscriber.push(event, time);
      } else if (this.strategy === 'drop_oldest') {
        this.drop(subscriber, subscriber.shift());
        subscriber.push(event, time);
      } else if (this.strategy === 'drop_newest') {
        this.drop(subscriber, event);
        continue;
      } else {
        if (blocked === undefined) {
          let resolve!: () => void;
          promise = new Promise<void>((r) => (resolve = r));
          blocked = { remaining: 0, resolve };
        }
        blocked.remaining += 1;
        subscriber.waiters.push({ event, time, blocked });
      }
      if (!subscriber.scheduled && !subscriber.busy) this.schedule(subscriber);
    }
    return promise;
  }

  stats(): SubscriberStats[] {
    return this.subscribers.map((s) => ({
      id: s.id,
      queued: s.size,
      delivered: s.delivered,
      failed: s.failed,
      dropped: s.dropped,
    }));
  }

  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private own(handle: BroadcastSubscriber): Subscriber {
    if (!(handle instanceof Subscriber)) {
      throw new TaskerError('EVENT_INVALID', `subscriber "${handle.id}" does not belong to this broadcast`);
    }
    return handle;
  }

  private schedule(subscriber: Subscriber): void {
    subscriber.scheduled = true;
    setImmediate(this.drainBound, subscriber);
  }

  /** Handles queued events of one subscriber until it is empty, awaits a promise, or the budget is spent. */
  private drain(subscriber: Subscriber): void {
    subscriber.scheduled = false;
    const metrics = this.metrics;
    let budget = DRAIN_BUDGET;
    while (subscriber.size > 0 && budget-- > 0) {
      const event = subscriber.shift();
      const time = subscriber.lastTime;
      if (subscriber.waiters.length > 0) this.admitWaiter(subscriber);
      let result: unknown;
      try {
        result = subscriber.handler(event);
      } catch (error) {
        this.fail(subscriber, event, error);
        continue;
      }
      if (isThenable(result)) {
        this.awaitHandler(subscriber, event, time, result);
        return;
      }
      subscriber.delivered += 1;
      if (metrics.enabled) metrics.delivered(event, 'fire_and_forget', (performance.now() - time) / 1000);
    }
    if (subscriber.size > 0 && !subscriber.removed) this.schedule(subscriber);
    else if (this.idleWaiters.length > 0) this.checkIdle();
  }

  /** Waits for a handler's promise, bounded by the handler timeout, then drains on. */
  private awaitHandler(
    subscriber: Subscriber,
    event: DomainEvent,
    time: number,
    result: PromiseLike<unknown>,
  ) {
    subscriber.busy = true;
    let settled = false;
    const finish = (failed: boolean, error?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      subscriber.busy = false;
      if (failed) {
        this.fail(subscriber, event, error);
      } else {
        subscriber.delivered += 1;
        if (this.metrics.enabled) {
          this.metrics.delivered(event, 'fire_and_forget', (performance.now() - time) / 1000);
        }
      }
      if (subscriber.removed) this.checkIdle();
      else if (subscriber.size > 0) this.schedule(subscriber);
      else this.checkIdle();
    };
    const timer = setTimeout(() => {
      finish(true, new Error(`handler did not settle within ${this.handlerTimeoutMs} ms`));
    }, this.handlerTimeoutMs);
    timer.unref();
    result.then(
      () => finish(false),
      (error: unknown) => finish(true, error),
    );
  }

  /** Moves the first blocked publish into the room just freed. */
  private admitWaiter(subscriber: Subscriber): void {
    const waiter = subscriber.waiters.shift()!;
    subscriber.push(waiter.event, waiter.time);
    this.release(waiter.blocked);
  }

  private release(blocked: BlockedPublish): void {
    blocked.remaining -= 1;
    if (blocked.remaining === 0) blocked.resolve();
  }

  private drop(subscriber: Subscriber, event: DomainEvent): void {
    subscriber.dropped += 1;
    this.metrics.dropped(event, 'fire_and_forget');
  }

  private fail(subscriber: Subscriber, event: DomainEvent, error: unknown): void {
    subscriber.failed += 1;
    this.metrics.failed(event, 'fire_and_forget');
    const now = Date.now();
    if (now - subscriber.lastFailureLog < FAILURE_LOG_INTERVAL_MS) {
      subscriber.suppressedFailures += 1;
      return;
    }
    try {
      this.logger.warn(
        {
          subscriber: subscriber.id,
          event_name: event.name,
          event_id: event.id,
          err: error,
          suppressed_since_last_log: subscriber.suppressedFailures,
        },
        'domain event subscriber failed; fire_and_forget events are not redelivered',
      );
    } catch {
      // A broken logger must not break delivery either.
    }
    subscriber.lastFailureLog = now;
    subscriber.suppressedFailures = 0;
  }

  private isIdle(): boolean {
    return this.subscribers.every((s) => s.size === 0 && !s.busy && s.waiters.length === 0);
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0 || !this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
