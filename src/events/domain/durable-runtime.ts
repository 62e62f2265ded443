import { metrics as otelMetrics } from '@opentelemetry/api';
import type { TaskerConfig } from '../../config/schema.js';
import type { Database } from '../../db/database.js';
import { ensureNamespaceQueues } from '../../engine/namespace-queues.js';
import { logger } from '../../logging/logger.js';
import { PgmqClient } from '../../messaging/pgmq-client.js';
import type { QueueConsumer } from '../../messaging/queue-consumer.js';
import { purgeExpiredDeadLetters } from './dead-letters.js';
import { registerDurableSubscriptions } from './durable-subscriptions.js';
import { startEventRouter } from './event-router.js';
import type { DomainEventMetrics } from './metrics.js';
import { compilePattern } from './patterns.js';
import type { Subscription } from './registry.js';
import {
  startSubscriberConsumer,
  type DurableSettings,
  type SubscriberConsumer,
} from './subscriber-consumer.js';

/** Options of {@link startDurableDelivery}. */
export interface DurableDeliveryOptions {
  db: Database;
  config: TaskerConfig['events'];
  namespaces: readonly string[];
  subscriptions: readonly Subscription[];
  metrics: DomainEventMetrics;
}

/** Converts `[events.durable]` into the consumer's settings. */
export function durableSettings(config: TaskerConfig['events']): DurableSettings {
  const durable = config.durable;
  return {
    batchSize: durable.batch_size,
    visibilityTimeoutSeconds: durable.visibility_timeout,
    pollIntervalMs: durable.poll_interval_ms,
    maxDeliveryAttempts: durable.max_delivery_attempts,
    dlqEnabled: durable.dlq_enabled,
    retryBackoffBaseMs: durable.retry_backoff_base_ms,
    retryBackoffMaxMs: durable.retry_backoff_max_ms,
  };
}

/**
 * Warns about durable subscriptions that can never receive anything: their pattern matches no
 * declared event of the namespace, or only events declared fire_and_forget (never persisted).
 */
async function warnAboutUnreachable(db: Database, namespace: string, subscriptions: readonly Subscription[]) {
  const { rows } = await db.query<{
    definition: { steps?: Array<{ publishesEvents?: Array<{ name: string; delivery: string }> }> };
  }>('SELECT definition FROM tasker.named_templates WHERE namespace = $1', [namespace]);
  const declared = rows.flatMap((row) =>
    (row.definition.steps ?? []).flatMap((step) => step.publishesEvents ?? []),
  );
  if (declared.length === 0) return;
  for (const subscription of subscriptions) {
    const matches = compilePattern(subscription.pattern);
    const matched = declared.filter((event) => matches(event.name));
    if (matched.some((event) => event.delivery !== 'fire_and_forget')) continue;
    const names = [...new Set(matched.map((event) => event.name))];
    logger.warn(
      names.length > 0
        ? `durable subscription ${subscription.id} (${subscription.pattern}) in ${namespace} matches only events declared fire_and_forget (${names.join(', ')}); they are never persisted, so it will receive nothing`
        : `durable subscription ${subscription.id} (${subscription.pattern}) matches no event declared in ${namespace}`,
    );
  }
}

/**
 * Starts durable delivery for a process: registers its durable subscriptions in each
 * namespace, routes the namespace queues to subscriber queues, consumes those queues, and
 * purges dead letters past their retention. Resolves to a stop function.
 */
export async function startDurableDelivery(options: DurableDeliveryOptions): Promise<() => Promise<void>> {
  const { db, config, subscriptions } = options;
  if (subscriptions.length === 0) return () => Promise.resolve();
  const queue = new PgmqClient(db);
  const settings = durableSettings(config);
  const dlqCounter = config.metrics.enabled
    ? otelMetrics.getMeter('tasker').createCounter('tasker.domain_events.dlq.total', {
        description: 'Domain events moved to a dead-letter queue after their last delivery attempt.',
      })
    : undefined;
  const routers: QueueConsumer[] = [];
  const consumers: SubscriberConsumer[] = [];
  // Subscriber consumers of this process by queue: an idle one claims the copies the router
  // of this process routes to it (no read), a busy one is woken by the router after routing,
  // sparing the NOTIFY round trip through the server (other processes still get the NOTIFY).
  const local = new Map<string, SubscriberConsumer>();
  const stopAll = async (): Promise<void> => {
    clearInterval(purgeTimer);
    // Routers first: a routing in progress may still hand copies to a subscriber consumer.
    await Promise.all(routers.map((router) => router.stop()));
    await Promise.all(consumers.map((consumer) => consumer.stop()));
  };
  let purgeTimer: NodeJS.Timeout | undefined;
  try {
    for (const namespace of options.namespaces) {
      await ensureNamespaceQueues(db, namespace);
      const records = await registerDurableSubscriptions(db, namespace, subscriptions);
      await warnAboutUnreachable(db, namespace, subscriptions);
      routers.push(
        await startEventRouter({
          db,
          queue,
          namespace,
          batchSize: settings.batchSize,
          visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds,
          pollIntervalMs: settings.pollIntervalMs,
          claim: (name) => local.get(name)?.claim(),
          onRouted: (queues) => {
            for (const name of queues) local.get(name)?.wake();
          },
        }),
      );
      for (const [index, subscription] of subscriptions.entries()) {
        const queueName = records[index]!.queue_name;
        const consumer = await startSubscriberConsumer({
          db,
          queue,
          namespace,
          subscriberId: subscription.id,
          queueName,
          handler: subscription.handler,
          settings,
          metrics: options.metrics,
          onDeadLetter: (event) =>
            dlqCounter?.add(1, { namespace, event_name: event.name, subscriber: subscription.id }),
        });
        consumers.push(consumer);
        local.set(queueName, consumer);
      }
    }
    if (config.durable.dlq_enabled) {
      const purge = (): void => {
        for (const namespace of options.namespaces) {
          purgeExpiredDeadLetters(db, namespace, config.durable.dlq_retention_days).catch((error: unknown) =>
            logger.warn({ err: error, namespace }, 'dead letter purge failed'),
          );
        }
      };
      purge();
      purgeTimer = setInterval(purge, config.durable.dlq_purge_interval_seconds * 1000);
      purgeTimer.unref();
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  return stopAll;
}
