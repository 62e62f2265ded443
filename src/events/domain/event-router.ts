import type { Database } from '../../db/database.js';
import { domainEventsQueue } from '../../engine/queues.js';
import { notificationChannel, type PgmqClient, type QueueMessage } from '../../messaging/pgmq-client.js';
import { assertQueueName } from '../../messaging/queue-names.js';
import { startQueueConsumer, type QueueConsumer } from '../../messaging/queue-consumer.js';
import {
  loadDurableSubscriptions,
  type DurableSubscriptionRecord,
  type RoutableSubscription,
} from './durable-subscriptions.js';
import type { DomainEvent } from './envelope.js';
import { compilePattern, type EventNameMatcher } from './patterns.js';
import {
  readAndRouteStatement,
  readRoutingResult,
  routingResult,
  routingStatement,
  subscriptionFingerprint,
  type RoutedCopies,
} from './routing-statement.js';

/** Header naming the subscriber a routed copy is for. */
export const SUBSCRIBER_HEADER = 'tasker_subscriber';

/**
 * Header of a copy claimed at routing by a consumer in the router's process: it was inserted
 * invisible and handed over without a read, so its delivery attempt is `read_ct + 1`.
 */
export const CLAIMED_HEADER = 'tasker_claimed';

/**
 * A local consumer's claim on the copies routed to its queue: they are inserted invisible for
 * `visibilityTimeoutSeconds`, then handed to `deliver` after the routing committed.
 */
export interface LocalClaim {
  visibilityTimeoutSeconds: number;
  deliver(messages: QueueMessage<DomainEvent>[]): void;
  /** Gives the claim up unused (the routing did not happen). */
  release(): void;
}

/** Options of {@link startEventRouter}. */
export interface EventRouterOptions {
  db: Database;
  queue: PgmqClient;
  namespace: string;
  batchSize: number;
  visibilityTimeoutSeconds: number;
  pollIntervalMs: number;
  /**
   * Asked per subscriber queue before routing: an idle consumer of this process claims the
   * copies (skipping its read), a busy or absent one returns undefined.
   */
  claim?: (queue: string) => LocalClaim | undefined;
  /** Called with the subscriber queues that just received visible copies (to wake local consumers). */
  onRouted?: (queues: readonly string[]) => void;
}

const matchers = new Map<string, EventNameMatcher>();

function matcher(pattern: string): EventNameMatcher {
  let found = matchers.get(pattern);
  if (!found) matchers.set(pattern, (found = compilePattern(pattern)));
  return found;
}

interface Subscriptions {
  rows: RoutableSubscription[];
  fingerprint: string;
}

/** The namespace's subscriptions, read from the database. */
async function loadSubscriptions(db: Database, namespace: string): Promise<Subscriptions> {
  const rows = await loadDurableSubscriptions(db, namespace);
  return { rows, fingerprint: subscriptionFingerprint(rows) };
}

/** What one routing produced: queues with visible copies, and claimed copies to hand over. */
interface Routed {
  visible: string[];
  claimed: Array<{ claim: LocalClaim; messages: QueueMessage<DomainEvent>[] }>;
}

/**
 * Routes batches of one namespace: copies each event into the queue of every subscription
 * matching it and archives the original, in one statement (see routing-statement.ts). The
 * subscriptions are kept between batches; the statement checks they are still current and
 * does nothing otherwise, and the batch is routed again with the subscriptions re-read.
 */
export class EventRouter {
  private subscriptions: Subscriptions | undefined;

  constructor(
    private readonly db: Database,
    private readonly namespace: string,
    private readonly claim?: EventRouterOptions['claim'],
  ) {}

  /**
   * Reads the next batch of the namespace queue and routes it, in one statement when the
   * subscriptions kept are current (the usual case); else routes what it read after reading
   * them again. Resolves to the messages read and what the routing produced.
   */
  async readAndRoute(read: {
    vtSeconds: number;
    qty: number;
  }): Promise<{ messages: QueueMessage<DomainEvent>[]; routed: Routed }> {
    this.subscriptions ??= await loadSubscriptions(this.db, this.namespace);
    const subscriptions = this.subscriptions;
    const claims = subscriptions.rows.map((subscription) => this.claim?.(subscription.queue_name));
    try {
      const source = domainEventsQueue(this.namespace);
      assertQueueName(source);
      const statement = readAndRouteStatement(
        this.namespace,
        subscriptions.fingerprint,
        source,
        read,
        subscriptions.rows.map((subscription, i) => {
          assertQueueName(subscription.queue_name);
          const claim = claims[i];
          return {
            queue: subscription.queue_name,
            regex: subscription.name_regex,
            headers: {
              [SUBSCRIBER_HEADER]: subscription.subscriber_id,
              ...(claim ? { [CLAIMED_HEADER]: true } : {}),
            },
            delaySeconds: claim?.visibilityTimeoutSeconds ?? 0,
          };
        }),
      );
      const { rows } = await this.db.query<Record<string, unknown>>(statement.sql, statement.params);
      const result = readRoutingResult(rows[0], subscriptions.rows.length);
      const messages: QueueMessage<DomainEvent>[] = result.messages.map((row) => ({
        msgId: Number(row.msg_id),
        readCount: row.read_ct,
        enqueuedAt: new Date(row.enqueued_at),
        vt: new Date(row.vt),
        message: row.message as DomainEvent,
        headers: row.headers,
      }));
      if (!result.ok) {
        for (const claim of claims) claim?.release();
        this.subscriptions = undefined;
        return {
          messages,
          routed: messages.length > 0 ? await this.route(messages) : { visible: [], claimed: [] },
        };
      }
      const byId = new Map(messages.map((message) => [message.msgId, message]));
      const routed: Routed = { visible: [], claimed: [] };
      subscriptions.rows.forEach((subscription, i) => {
        const claim = claims[i];
        const sources = result.sources[i] ?? [];
        if (sources.length === 0) {
          claim?.release();
          return;
        }
        if (!claim) {
          routed.visible.push(subscription.queue_name);
          return;
        }
        const ids = result.ids[i] ?? [];
        const now = Date.now();
        routed.claimed.push({
          claim,
          messages: sources.map((sourceId, k) => {
            const original = byId.get(sourceId)!;
            return {
              msgId: ids[k]!,
              readCount: 0,
              enqueuedAt: new Date(now),
              vt: new Date(now + claim.visibilityTimeoutSeconds * 1000),
              message: original.message,
              headers: copyHeaders(original, subscription, true),
            };
          }),
        });
      });
      return { messages, routed };
    } catch (error) {
      for (const claim of claims) claim?.release();
      throw error;
    }
  }

  /** Routes one batch read from the namespace queue. */
  async route(messages: readonly QueueMessage<DomainEvent>[]): Promise<Routed> {
    for (let attempt = 0; ; attempt++) {
      this.subscriptions ??= await loadSubscriptions(this.db, this.namespace);
      const routed = await this.tryRoute(messages, this.subscriptions);
      if (routed) return routed;
      // The subscriptions changed since they were read: read them again.
      this.subscriptions = undefined;
      if (attempt > 10) throw new Error(`routing ${this.namespace}: subscriptions keep changing`);
    }
  }

  private async tryRoute(
    messages: readonly QueueMessage<DomainEvent>[],
    subscriptions: Subscriptions,
  ): Promise<Routed | undefined> {
    const targets = subscriptions.rows.flatMap((subscription) => {
      const matches = matcher(subscription.pattern);
      const matching = messages.filter((message) => matches(message.message.name));
      return matching.length === 0 ? [] : [{ subscription, matching }];
    });
    const claims = targets.map(({ subscription }) => this.claim?.(subscription.queue_name));
    try {
      const copies: RoutedCopies[] = targets.map(({ subscription, matching }, i) => {
        const claim = claims[i];
        return {
          queue: subscription.queue_name,
          // Claimed copies are invisible to every reader: nobody to wake.
          channel: claim ? undefined : notificationChannel(subscription.queue_name),
          messages: matching.map((message) => JSON.stringify(message.message)),
          headers: matching.map((message) =>
            JSON.stringify(copyHeaders(message, subscription, claim !== undefined)),
          ),
          delaySeconds: claim?.visibilityTimeoutSeconds ?? 0,
        };
      });
      const source = domainEventsQueue(this.namespace);
      assertQueueName(source);
      for (const copy of copies) assertQueueName(copy.queue);
      const statement = routingStatement(
        this.namespace,
        subscriptions.fingerprint,
        source,
        messages.map((message) => message.msgId),
        copies,
      );
      const { rows } = await this.db.query<Record<string, unknown>>(statement.sql, statement.params);
      const result = routingResult(rows[0], copies.length);
      if (!result.ok) {
        for (const claim of claims) claim?.release();
        return undefined;
      }
      const routed: Routed = { visible: [], claimed: [] };
      targets.forEach(({ subscription, matching }, i) => {
        const claim = claims[i];
        if (!claim) {
          routed.visible.push(subscription.queue_name);
          return;
        }
        const now = Date.now();
        const ids = result.ids[i] ?? [];
        routed.claimed.push({
          claim,
          messages: matching.map((message, k) => ({
            msgId: ids[k]!,
            readCount: 0,
            enqueuedAt: new Date(now),
            vt: new Date(now + claim.visibilityTimeoutSeconds * 1000),
            message: message.message,
            headers: copyHeaders(message, subscription, true),
          })),
        });
      });
      return routed;
    } catch (error) {
      for (const claim of claims) claim?.release();
      throw error;
    }
  }
}

function copyHeaders(
  message: QueueMessage<DomainEvent>,
  subscription: DurableSubscriptionRecord,
  claimed: boolean,
): Record<string, unknown> {
  return {
    ...message.headers,
    [SUBSCRIBER_HEADER]: subscription.subscriber_id,
    ...(claimed ? { [CLAIMED_HEADER]: true } : {}),
  };
}

/** Routes a namespace's events as they arrive; any number of routers may compete. */
export function startEventRouter(options: EventRouterOptions): Promise<QueueConsumer> {
  const router = new EventRouter(options.db, options.namespace, options.claim);
  return startQueueConsumer<DomainEvent>({
    db: options.db,
    client: options.queue,
    queue: domainEventsQueue(options.namespace),
    batchSize: options.batchSize,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
    pollIntervalMs: options.pollIntervalMs,
    // Reading and routing are one statement: by the time `handle` gets a batch, it is routed.
    read: async (qty) => {
      const { messages, routed } = await router.readAndRoute({
        vtSeconds: options.visibilityTimeoutSeconds,
        qty,
      });
      for (const { claim, messages: copies } of routed.claimed) claim.deliver(copies);
      if (routed.visible.length > 0) options.onRouted?.(routed.visible);
      return messages;
    },
    handle: () => Promise.resolve(),
  });
}
