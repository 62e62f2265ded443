import type { Broadcast, BroadcastSubscriber, SubscriberStats } from './broadcast.js';
import type { DomainEvent } from './envelope.js';
import type { EventRegistry, Subscription } from './registry.js';

const TARGET_CACHE_LIMIT = 10_000; // distinct event names remembered

/**
 * Delivers published events to the registry's matching `fire_and_forget` subscriptions over
 * an in-process {@link Broadcast} (DESIGN.md "Delivery": every event, whatever its declared
 * delivery, after its attempt's result is committed). It follows the registry: a new
 * subscription receives events dispatched from then on; an unsubscribed one receives nothing
 * more, not even what was already queued for it. The subscribers matching each event name are
 * cached, so the hot path is one map lookup and one enqueue per subscriber.
 */
export class FireAndForgetDispatcher {
  private readonly subscribers = new Map<Subscription, BroadcastSubscriber>();
  private readonly targets = new Map<string, readonly BroadcastSubscriber[]>();
  private readonly stopFollowing: () => void;
  private closed = false;

  constructor(
    private readonly registry: EventRegistry,
    private readonly broadcast: Broadcast,
  ) {
    this.sync();
    this.stopFollowing = registry.onChange(() => this.sync());
  }

  /**
   * Queues each event for its matching subscriptions and returns at once; handlers run later.
   * Returns `undefined`, or with the `block` overflow strategy a promise that resolves once
   * every full queue took its events; await it to slow the publisher down to its subscribers.
   */
  dispatch(events: readonly DomainEvent[]): Promise<void> | undefined {
    if (this.closed) return undefined;
    let waits: Promise<void>[] | undefined;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const targets = this.targetsOf(event.name);
      if (targets.length === 0) continue;
      const wait = this.broadcast.publish(event, targets);
      if (wait !== undefined) (waits ??= []).push(wait);
    }
    if (waits === undefined) return undefined;
    return waits.length === 1 ? waits[0] : Promise.all(waits).then(() => undefined);
  }

  /** Counters of each fire_and_forget subscriber (id = subscription id). */
  stats(): SubscriberStats[] {
    const ids = new Set([...this.subscribers.values()].map((s) => s.id));
    return this.broadcast.stats().filter((s) => ids.has(s.id));
  }

  /** Resolves when every subscriber's queue is empty and no handler is running. */
  idle(): Promise<void> {
    return this.broadcast.idle();
  }

  /**
   * Stops following the registry and removes this dispatcher's subscribers from the broadcast
   * (queued events are discarded); later dispatches deliver nothing.
   */
  close(): void {
    this.closed = true;
    this.stopFollowing();
    for (const subscriber of this.subscribers.values()) this.broadcast.removeSubscriber(subscriber);
    this.subscribers.clear();
    this.targets.clear();
  }

  private targetsOf(name: string): readonly BroadcastSubscriber[] {
    let targets = this.targets.get(name);
    if (targets === undefined) {
      targets = this.registry.matching(name, 'fire_and_forget').map((s) => this.subscribers.get(s)!);
      if (this.targets.size >= TARGET_CACHE_LIMIT) this.targets.clear();
      this.targets.set(name, targets);
    }
    return targets;
  }

  /** Mirrors the registry's fire_and_forget subscriptions as broadcast subscribers. */
  private sync(): void {
    const current = new Set(this.registry.subscriptions('fire_and_forget'));
    for (const [subscription, subscriber] of this.subscribers) {
      if (!current.has(subscription)) {
        this.broadcast.removeSubscriber(subscriber);
        this.subscribers.delete(subscription);
      }
    }
    for (const subscription of current) {
      if (!this.subscribers.has(subscription)) {
        this.subscribers.set(
          subscription,
          this.broadcast.addSubscriber(subscription.id, subscription.handler),
        );
      }
    }
    this.targets.clear();
  }
}
