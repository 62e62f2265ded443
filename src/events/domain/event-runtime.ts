import type { TaskerConfig } from '../../config/schema.js';
import type { Database } from '../../db/database.js';
import type { StepEventPublisher } from '../../worker/step-events.js';
import { createBroadcast } from './broadcast.js';
import { startDurableDelivery } from './durable-runtime.js';
import { FireAndForgetDispatcher } from './fire-and-forget.js';
import { createDomainEventMetrics, type DomainEventMetrics } from './metrics.js';
import { EventRegistry, registerSubscribers } from './registry.js';
import { createStepEventPublisher } from './step-publisher.js';

/** Where subscribers come from: a handler module's `subscribers` export. */
export interface SubscriberSource {
  subscribers: unknown[];
  source: string;
}

/** Options of {@link startEventRuntime}. */
export interface EventRuntimeOptions {
  db: Database;
  config: TaskerConfig['events'];
  module: SubscriberSource;
  /** Namespaces whose events this process publishes or consumes. */
  namespaces: readonly string[];
  /** Names this process in `metadata.fired_by`. */
  id: string;
}

/** The domain event machinery of one process. */
export interface EventRuntime {
  readonly registry: EventRegistry;
  readonly publisher: StepEventPublisher;
  readonly dispatcher: FireAndForgetDispatcher;
  readonly metrics: DomainEventMetrics;
  /** Waits for in-process subscribers to drain, then stops. */
  stop(): Promise<void>;
}

/**
 * Sets up domain events for a process: the registry with the module's subscribers, the
 * bounded in-process broadcast for fire_and_forget subscriptions, the publisher that workers
 * hand `ctx.publishEvent` to, and durable delivery for the module's durable subscriptions.
 */
export async function startEventRuntime(options: EventRuntimeOptions): Promise<EventRuntime> {
  const { config } = options;
  const registry = new EventRegistry();
  registerSubscribers(registry, options.module.subscribers, options.module.source);
  const metrics = createDomainEventMetrics(config.metrics);
  const broadcast = createBroadcast({
    bufferSize: config.fire_and_forget.buffer_size,
    overflowStrategy: config.fire_and_forget.overflow_strategy,
    metrics,
  });
  const dispatcher = new FireAndForgetDispatcher(registry, broadcast);
  const publisher = createStepEventPublisher({
    db: options.db,
    workerId: options.id,
    inProcess: dispatcher,
    enabled: config.enabled,
    metrics,
  });
  const stopDurable = await startDurableDelivery({
    db: options.db,
    config,
    namespaces: options.namespaces,
    subscriptions: registry.subscriptions('durable'),
    metrics,
  });
  return {
    registry,
    publisher,
    dispatcher,
    metrics,
    async stop() {
      await stopDurable();
      await dispatcher.idle();
    },
  };
}
