import { TaskerError } from '../../errors.js';
import type { DeliveryContext } from './delivery-context.js';
import type { DomainEvent } from './envelope.js';
import { compilePattern, validatePattern, type EventNameMatcher } from './patterns.js';

/*
 * Subscriptions to domain events by pattern (spec 2.3, phase 3). A subscription's `delivery`
 * decides the path it listens on (DESIGN.md "Delivery"): `fire_and_forget` (default), the
 * in-process broadcast of events published in this process; `durable`, the namespace queues,
 * for events declared `durable` or `acknowledged`.
 *
 * Subscriber ids. Acknowledged delivery records acknowledgements per subscriber id in
 * PostgreSQL, so an id must name the same handler after a restart: with a new id a restarted
 * subscriber would receive again what it already acknowledged, and lose what the old id was
 * still owed. Without an explicit `id`, it is `<pattern>|<handler function name>|<n>`, `n`
 * being 0 for the first subscription with that pattern and name, 1 for the next, and so on
 * (the smallest unused). That stays the same across restarts as long as the handler module
 * registers the same subscriptions in the same order, and changes when the pattern or the
 * function's name does (renaming, minifying, an anonymous function becoming another one).
 * Give durable subscriptions an explicit, permanent `id`.
 */

/** The path a subscription listens on. `acknowledged` is declared on events, not subscriptions. */
export type SubscriptionDelivery = 'fire_and_forget' | 'durable';

/** Accepted values of a subscription's `delivery`. */
export const SUBSCRIPTION_DELIVERIES: readonly SubscriptionDelivery[] = ['fire_and_forget', 'durable'];

/** Longest accepted subscriber id, in characters. */
export const MAX_SUBSCRIBER_ID_LENGTH = 255;

/**
 * A subscription's callback. `fire_and_forget` deliveries pass only the event; `durable` ones
 * also a {@link DeliveryContext} (attempt, acknowledgement transaction). A returned promise is
 * awaited.
 */
export type SubscriptionHandler = (event: DomainEvent, context?: DeliveryContext) => unknown;

/** Options of {@link EventRegistry.subscribe}. */
export interface SubscribeOptions {
  /** Default `fire_and_forget`. */
  delivery?: SubscriptionDelivery;
  /** Stable subscriber id (the acknowledgement key); derived when absent, see the module comment. */
  id?: string;
}

/** One registered subscription. */
export interface Subscription {
  readonly id: string;
  readonly pattern: string;
  readonly delivery: SubscriptionDelivery;
  readonly handler: SubscriptionHandler;
  /** The compiled pattern. */
  readonly matches: EventNameMatcher;
}

/**
 * One entry of a handler module's `export const subscribers = [...]` (DESIGN.md "Handler
 * modules"). `handle` may return a promise; see {@link SubscriptionHandler}.
 */
export interface SubscriberDefinition {
  pattern: string;
  delivery?: SubscriptionDelivery;
  // Method syntax, so a handler typed for a specific payload (`DomainEvent<Charge>`) fits.
  handle(this: void, event: DomainEvent, context?: DeliveryContext): unknown;
  id?: string;
}

const DEFINITION_KEYS = ['pattern', 'delivery', 'handle', 'id'];
const MATCH_CACHE_LIMIT = 10_000; // distinct event names remembered per delivery path

/** Subscriptions by pattern, with the matching ones per event name cached. */
export class EventRegistry {
  private readonly entries: Subscription[] = [];
  private readonly cache: Record<SubscriptionDelivery, Map<string, readonly Subscription[]>> = {
    fire_and_forget: new Map(),
    durable: new Map(),
  };
  private changes = 0;
  private readonly listeners = new Set<() => void>();

  /** Grows by one on every subscribe and unsubscribe, so users can cache what they derive. */
  get generation(): number {
    return this.changes;
  }

  /** Calls `listener` after every subscribe and unsubscribe; returns a function that stops it. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Subscribes `handler` to events whose name matches `pattern`. Throws TaskerError
   * `EVENT_INVALID` for an invalid or reserved pattern, an unknown delivery, or an id already
   * taken. Returns a function that unsubscribes (idempotent).
   */
  subscribe<P = unknown>(
    pattern: string,
    handler: (event: DomainEvent<P>, context?: DeliveryContext) => unknown,
    options: SubscribeOptions = {},
  ): () => void {
    return this.add(
      pattern,
      handler as SubscriptionHandler,
      options,
      `subscribe(${JSON.stringify(pattern)})`,
    );
  }

  /** Subscriptions in registration order, all or those of one delivery path. */
  subscriptions(delivery?: SubscriptionDelivery): readonly Subscription[] {
    return delivery === undefined ? [...this.entries] : this.entries.filter((s) => s.delivery === delivery);
  }

  /** Subscriptions of `delivery` whose pattern matches `name`, in registration order (cached). */
  matching(name: string, delivery: SubscriptionDelivery): readonly Subscription[] {
    const cache = this.cache[delivery];
    let found = cache.get(name);
    if (found === undefined) {
      found = this.entries.filter((s) => s.delivery === delivery && s.matches(name));
      if (cache.size >= MATCH_CACHE_LIMIT) cache.clear();
      cache.set(name, found);
    }
    return found;
  }

  /** Shared by `subscribe` and `registerSubscribers`; `where` prefixes error messages. */
  add(pattern: string, handler: SubscriptionHandler, options: SubscribeOptions, where: string): () => void {
    validatePattern(pattern, where);
    if (typeof handler !== 'function') {
      throw new TaskerError(
        'EVENT_INVALID',
        `${where}: the handler must be a function, got ${typeof handler}`,
      );
    }
    const delivery = options.delivery ?? 'fire_and_forget';
    checkDelivery(delivery, where);
    const id = options.id === undefined ? this.derivedId(pattern, handler) : options.id;
    checkId(id, where);
    const taken = this.entries.find((s) => s.id === id);
    if (taken !== undefined) {
      throw new TaskerError(
        'EVENT_INVALID',
        `${where}: subscriber id ${JSON.stringify(id)} is already used by the subscription to ` +
          `${JSON.stringify(taken.pattern)}; ids must be unique`,
      );
    }
    const subscription: Subscription = { id, pattern, delivery, handler, matches: compilePattern(pattern) };
    this.entries.push(subscription);
    this.changed();
    return () => {
      const index = this.entries.indexOf(subscription);
      if (index === -1) return;
      this.entries.splice(index, 1);
      this.changed();
    };
  }

  private derivedId(pattern: string, handler: SubscriptionHandler): string {
    const base = `${pattern}|${handler.name || 'anonymous'}|`;
    let n = 0;
    while (this.entries.some((s) => s.id === `${base}${n}`)) n += 1;
    return `${base}${n}`;
  }

  private changed(): void {
    this.changes += 1;
    this.cache.fire_and_forget.clear();
    this.cache.durable.clear();
    for (const listener of this.listeners) listener();
  }
}

function checkDelivery(delivery: unknown, where: string): asserts delivery is SubscriptionDelivery {
  if (SUBSCRIPTION_DELIVERIES.includes(delivery as SubscriptionDelivery)) return;
  const hint =
    delivery === 'acknowledged'
      ? '; "acknowledged" is declared on the event (publishes_events), subscribe with "durable" to receive it'
      : '';
  throw new TaskerError(
    'EVENT_INVALID',
    `${where}: delivery must be "fire_and_forget" or "durable", got ${JSON.stringify(delivery) ?? String(delivery)}${hint}`,
  );
}

function checkId(id: unknown, where: string): asserts id is string {
  if (typeof id !== 'string' || id.trim().length === 0) {
    throw new TaskerError(
      'EVENT_INVALID',
      `${where}: id must be a non-empty string, got ${JSON.stringify(id) ?? String(id)}`,
    );
  }
  if (id.length > MAX_SUBSCRIBER_ID_LENGTH) {
    throw new TaskerError(
      'EVENT_INVALID',
      `${where}: id is longer than ${MAX_SUBSCRIBER_ID_LENGTH} characters`,
    );
  }
}

/**
 * Registers a handler module's `subscribers` export into `registry`. `source` names the
 * module in error messages (`./handlers.ts subscribers[2]: ...`). Every entry is checked
 * (a plain object with only `pattern`, `delivery`, `handle`, `id`; a valid pattern; a function
 * `handle`); on any error nothing stays registered. `undefined` (no export) registers nothing.
 * Returns a function that unsubscribes them all.
 */
export function registerSubscribers(
  registry: EventRegistry,
  definitions: unknown,
  source: string,
): () => void {
  if (definitions === undefined) return () => {};
  if (!Array.isArray(definitions)) {
    throw new TaskerError(
      'EVENT_INVALID',
      `${source}: export "subscribers" must be an array of { pattern, delivery?, handle, id? }, got ${describeValue(definitions)}`,
    );
  }
  const unsubscribes: (() => void)[] = [];
  const unsubscribeAll = (): void => {
    for (const unsubscribe of unsubscribes) unsubscribe();
  };
  try {
    definitions.forEach((definition: unknown, index) => {
      const where = `${source} subscribers[${index}]`;
      const entry = checkDefinition(definition, where);
      unsubscribes.push(
        registry.add(entry.pattern, entry.handle, { delivery: entry.delivery, id: entry.id }, where),
      );
    });
  } catch (error) {
    unsubscribeAll();
    throw error;
  }
  return unsubscribeAll;
}

function checkDefinition(definition: unknown, where: string): SubscriberDefinition {
  if (typeof definition !== 'object' || definition === null || Array.isArray(definition)) {
    throw new TaskerError(
      'EVENT_INVALID',
      `${where}: expected an object { pattern, delivery?, handle, id? }, got ${describeValue(definition)}`,
    );
  }
  const record = definition as Record<string, unknown>;
  const unknownKey = Object.keys(record).find((key) => !DEFINITION_KEYS.includes(key));
  if (unknownKey !== undefined) {
    throw new TaskerError(
      'EVENT_INVALID',
      `${where}: unknown key ${JSON.stringify(unknownKey)} (expected ${DEFINITION_KEYS.join(', ')})`,
    );
  }
  if (record.pattern === undefined) throw new TaskerError('EVENT_INVALID', `${where}: "pattern" is missing`);
  if (typeof record.handle !== 'function') {
    throw new TaskerError(
      'EVENT_INVALID',
      `${where}: "handle" must be a function (event) => void | Promise<void>, got ${describeValue(record.handle)}`,
    );
  }
  return definition as SubscriberDefinition;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value === 'undefined' ? 'nothing' : typeof value;
}
