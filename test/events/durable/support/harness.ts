/**
 * Shared by the durable delivery tests: a configuration root with short delivery timings,
 * synthetic envelopes published through the outbox, the effects the fixture subscribers
 * record and the queues' contents.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import type { Database, Queryable } from '../../../../src/db/database.js';
import { ensureNamespaceQueues } from '../../../../src/engine/namespace-queues.js';
import { createDomainEvent, type DomainEvent } from '../../../../src/events/domain/envelope.js';
import { persistEvents } from '../../../../src/events/domain/outbox.js';
import { assertQueueName } from '../../../../src/messaging/queue-names.js';
import { EFFECTS_TABLE_SQL, type FixturePayload } from '../../../fixtures/durable/subscribers.js';
import { killAll } from '../../../engine/support/processes.js';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../../../helpers/databases.js';

/** The fixture module `tasker events consume` loads. */
export const FIXTURE_MODULE = 'test/fixtures/durable/subscribers.ts';

/** Persisted delivery modes. */
export type PersistedDelivery = 'durable' | 'acknowledged';

/** `[events.durable]` keys a test sets; the rest keep their defaults. */
export type DurableOverrides = Partial<
  Record<
    | 'visibility_timeout'
    | 'max_delivery_attempts'
    | 'batch_size'
    | 'poll_interval_ms'
    | 'retry_backoff_base_ms'
    | 'retry_backoff_max_ms'
    | 'dlq_retention_days'
    | 'dlq_purge_interval_seconds',
    number
  > & { dlq_enabled: boolean }
>;

/** The timings of the tests: a crashed delivery comes back after 2 s, retries after 1 s. */
export const FAST_DELIVERY: DurableOverrides = {
  visibility_timeout: 2,
  max_delivery_attempts: 3,
  poll_interval_ms: 200,
  retry_backoff_base_ms: 100,
  retry_backoff_max_ms: 1000,
};

/** A scratch directory: configuration root, marker and flag files. Remove it with `cleanup`. */
export interface Scratch {
  dir: string;
  configRoot: string;
  cleanup(): void;
}

/**
 * Creates a scratch directory whose `config/base/events.toml` holds `overrides`; `baseFiles`
 * adds more files to `config/base/` (name → TOML text).
 */
export function makeScratch(overrides: DurableOverrides, baseFiles: Record<string, string> = {}): Scratch {
  const dir = mkdtempSync(path.join(tmpdir(), 'tasker-durable-'));
  const configRoot = path.join(dir, 'config');
  mkdirSync(path.join(configRoot, 'base'), { recursive: true });
  const lines = Object.entries(overrides).map(([key, value]) => `${key} = ${String(value)}`);
  writeFileSync(path.join(configRoot, 'base', 'events.toml'), `[events.durable]\n${lines.join('\n')}\n`);
  for (const [name, text] of Object.entries(baseFiles))
    writeFileSync(path.join(configRoot, 'base', name), text);
  return { dir, configRoot, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const SOURCE = {
  taskUuid: '0190a000-0000-7000-8000-00000000d001',
  stepUuid: '0190a000-0000-7000-8000-00000000d002',
  stepName: 'publish',
  correlationId: 'durable-test',
  firedBy: 'durable-test',
};

/** `count` synthetic `order.placed` envelopes with payloads `{ n: first…, ...extra }`. */
export function makeEvents(
  namespace: string,
  count: number,
  extra: Omit<FixturePayload, 'n'> = {},
  first = 0,
): DomainEvent<FixturePayload>[] {
  return Array.from({ length: count }, (_, i) =>
    createDomainEvent<FixturePayload>('order.placed', { n: first + i, ...extra }, { ...SOURCE, namespace }),
  );
}

/** Writes events to the namespace queue through the outbox, `batch` per transaction. */
export async function publish(
  db: Database,
  namespace: string,
  events: readonly DomainEvent[],
  delivery: PersistedDelivery,
  batch = 100,
): Promise<void> {
  await ensureNamespaceQueues(db, namespace);
  for (let i = 0; i < events.length; i += batch) {
    const slice = events.slice(i, i + batch).map((event) => ({ event, delivery }));
    await db.transaction((tx) => persistEvents(tx, namespace, slice));
  }
}

/** Polls `check` until it returns a value; a deadline guards against hanging, nothing is timed. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Per subscriber: rows, distinct events, and the smallest and largest event number. */
export interface EffectSummary {
  subscriber: string;
  rows: number;
  events: number;
}

/** What the fixture subscribers recorded, per subscriber. */
export async function effectSummary(db: Queryable): Promise<Record<string, EffectSummary>> {
  const { rows } = await db.query<EffectSummary>(
    `SELECT subscriber, count(*)::int AS rows, count(DISTINCT event_id)::int AS events
       FROM durable_effects GROUP BY subscriber ORDER BY subscriber`,
  );
  return Object.fromEntries(rows.map((row) => [row.subscriber, row]));
}

/** The effect rows of one event, oldest first. */
export async function effectsOf(
  db: Queryable,
  eventId: string,
): Promise<Array<{ subscriber: string; attempt: number; delivery: string; pid: number }>> {
  const { rows } = await db.query<{ subscriber: string; attempt: number; delivery: string; pid: number }>(
    `SELECT subscriber, attempt, delivery, pid FROM durable_effects WHERE event_id = $1
      ORDER BY subscriber, attempt`,
    [eventId],
  );
  return rows;
}

/** Messages still in a queue (visible or not) and in its archive. */
export async function queueCounts(db: Queryable, queue: string): Promise<{ live: number; archived: number }> {
  assertQueueName(queue);
  const { rows } = await db.query<{ live: number; archived: number }>(
    `SELECT (SELECT count(*) FROM pgmq."q_${queue}")::int AS live,
            (SELECT count(*) FROM pgmq."a_${queue}")::int AS archived`,
  );
  return rows[0]!;
}

/** The subscriber queues of a namespace, by subscriber id. */
export async function subscriberQueues(db: Queryable, namespace: string): Promise<Record<string, string>> {
  const { rows } = await db.query<{ subscriber_id: string; queue_name: string }>(
    'SELECT subscriber_id, queue_name FROM tasker.event_subscriptions WHERE namespace = $1',
    [namespace],
  );
  return Object.fromEntries(rows.map((row) => [row.subscriber_id, row.queue_name]));
}

/** True when nothing is left to deliver in a namespace: its queue and every subscriber queue are empty. */
export async function drained(db: Queryable, namespace: string): Promise<boolean> {
  const queues = [`${namespace}_domain_events`, ...Object.values(await subscriberQueues(db, namespace))];
  for (const queue of queues) if ((await queueCounts(db, queue)).live > 0) return false;
  return true;
}

/** What a test of `tasker events` processes works with: its database, config and process env. */
export interface ProcessWorld {
  readonly db: TestDatabase['db'];
  readonly scratch: Scratch;
  /** Environment for `tasker` processes: the database, the scratch config and fixture directory. */
  readonly env: Record<string, string | undefined>;
}

/**
 * Registers the hooks every consumer-process test needs: the CLI built once; per test a fresh
 * server database with the effects table and a scratch config from `overrides`; afterwards every
 * spawned process killed and both removed (the database kept when a test failed). Returns the
 * current test's world.
 */
export function useProcessWorld(overrides: DurableOverrides): () => ProcessWorld {
  let testDb: TestDatabase | undefined;
  let world: ProcessWorld | undefined;
  beforeEach(async () => {
    keepDatabaseOnFailure();
    testDb = await createTestDatabase('postgres');
    await testDb.db.exec(EFFECTS_TABLE_SQL);
    const scratch = makeScratch(overrides);
    world = {
      db: testDb.db,
      scratch,
      env: {
        DATABASE_URL: testDb.url,
        TASKER_CONFIG_ROOT: scratch.configRoot,
        TASKER_ENV: undefined,
        DURABLE_FIXTURE_DIR: scratch.dir,
      },
    };
  });
  afterEach(async () => {
    await killAll();
    await testDb?.dispose();
    world?.scratch.cleanup();
    world = undefined;
  });
  return () => {
    if (!world) throw new Error('useProcessWorld: no test is running');
    return world;
  };
}
