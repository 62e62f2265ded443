/**
 * The transactional outbox through real workflows, in process (startEngine) on both databases:
 * events published by an attempt that then fails never reach the namespace queue nor a durable
 * subscriber, except those declared with `condition: failure` or `always`; a retried step
 * delivers only the events of its successful attempt. Persisted events carry the trace context
 * they were published in, and subscribers receive it.
 */
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { waitForTask } from '../../../src/api/task-finished.js';
import { createTask } from '../../../src/api/tasks.js';
import { loadConfig } from '../../../src/config/load.js';
import type { Queryable } from '../../../src/db/database.js';
import { startEngine, type Engine } from '../../../src/engine/local-engine.js';
import { domainEventsQueue } from '../../../src/engine/queues.js';
import type { DeliveryContext } from '../../../src/events/domain/delivery-context.js';
import type { DomainEvent } from '../../../src/events/domain/envelope.js';
import type { SubscriberDefinition } from '../../../src/events/domain/registry.js';
import { loadTemplates } from '../../../src/templates/load.js';
import type { TemplateRegistry } from '../../../src/templates/registry.js';
import { loadHandlerModule } from '../../../src/worker/handler-module.js';
import { ROOT } from '../../engine/support/processes.js';
import {
  createTestDatabase,
  DATABASE_KINDS,
  keepDatabaseOnFailure,
  type TestDatabase,
} from '../../helpers/databases.js';
import { drained, eventually, FAST_DELIVERY, makeScratch, type Scratch } from './support/harness.js';

const NS = 'durable_flow';
const ENGINE_TOML =
  '[orchestration]\npoll_interval_ms = 100\nretry_scan_interval_ms = 50\n[worker]\npoll_interval_ms = 100\n';

interface Received {
  name: string;
  task: string;
  attempt: number;
  delivery: string;
  acknowledgedInTx: boolean;
}

/** Trace context of each delivery, by event id. */
const traceparents = new Map<string, string | undefined>();

/** Events of one task persisted to the namespace queue, live or archived (the router archives). */
async function persistedFor(
  db: Queryable,
  taskUuid: string,
): Promise<Array<{ name: string; attempt: number }>> {
  const queue = domainEventsQueue(NS);
  const { rows } = await db.query<{ name: string; attempt: number }>(
    `SELECT message->>'name' AS name, (message->'payload'->>'attempt')::int AS attempt
       FROM (SELECT message FROM pgmq."q_${queue}" UNION ALL SELECT message FROM pgmq."a_${queue}") m
      WHERE message->'metadata'->>'task_uuid' = $1 ORDER BY 1, 2`,
    [taskUuid],
  );
  return rows;
}

describe.each(DATABASE_KINDS)('events of failed attempts on %s', { timeout: 180_000 }, (kind) => {
  let testDb: TestDatabase | undefined;
  let engine: Engine | undefined;
  let templates: TemplateRegistry;
  let scratch: Scratch | undefined;
  const received: Received[] = [];

  beforeAll(async () => {
    testDb = await createTestDatabase(kind);
    scratch = makeScratch(FAST_DELIVERY, { 'engine.toml': ENGINE_TOML });
    const config = await loadConfig({ root: scratch.configRoot, environ: {} });
    templates = await loadTemplates([path.join(ROOT, 'test/fixtures/durable/templates')]);
    const module = await loadHandlerModule(path.join(ROOT, 'test/fixtures/durable/flow-handlers.ts'));
    const subscriber: SubscriberDefinition = {
      id: 'flow.recorder',
      pattern: 'order.#',
      delivery: 'durable',
      handle: (event: DomainEvent, ctx?: DeliveryContext) => {
        received.push({
          name: event.name,
          task: event.metadata.task_uuid,
          attempt: (event.payload as { attempt: number }).attempt,
          delivery: ctx?.delivery ?? 'none',
          acknowledgedInTx: ctx?.tx !== undefined,
        });
        traceparents.set(event.id, ctx?.traceparent);
      },
    };
    engine = await startEngine({
      db: testDb.db,
      config,
      orchestrator: true,
      worker: { namespaces: [NS], module: { ...module, subscribers: [subscriber] } },
      id: `outbox-test-${kind}`,
    });
  }, 120_000);

  afterAll(async () => {
    await engine?.stop();
    await testDb?.dispose();
    scratch?.cleanup();
  });

  beforeEach(() => keepDatabaseOnFailure());

  async function run(name: string): Promise<{ taskUuid: string; status: string }> {
    const { taskUuid } = await createTask(testDb!.db, { template: templates.get(NS, name), context: {} });
    const task = await waitForTask(testDb!.db, taskUuid, { timeoutMs: 90_000, pollIntervalMs: 100 });
    // Nothing left in flight: every persisted event has reached the subscriber.
    await eventually('delivery to settle', async () => ((await drained(testDb!.db, NS)) ? true : undefined));
    return { taskUuid, status: task.status };
  }

  it('a step that publishes then fails for good releases only failure/always events', async () => {
    const { taskUuid, status } = await run('publish_then_fail');
    expect(status).toBe('error');
    // The success-only events never reached the queue: they were not in the committed transaction.
    expect(await persistedFor(testDb!.db, taskUuid)).toEqual([
      { name: 'order.noted', attempt: 1 },
      { name: 'order.rejected', attempt: 1 },
    ]);
    expect(
      received.filter((event) => event.task === taskUuid).sort((a, b) => a.name.localeCompare(b.name)),
    ).toEqual([
      { name: 'order.noted', task: taskUuid, attempt: 1, delivery: 'acknowledged', acknowledgedInTx: true },
      { name: 'order.rejected', task: taskUuid, attempt: 1, delivery: 'durable', acknowledgedInTx: false },
    ]);
  });

  it('a retried step delivers the events of its successful attempt only', async () => {
    const { taskUuid, status } = await run('retry_then_publish');
    expect(status).toBe('complete');
    expect(await persistedFor(testDb!.db, taskUuid)).toEqual([{ name: 'order.attempted', attempt: 2 }]);
    expect(received.filter((event) => event.task === taskUuid)).toEqual([
      {
        name: 'order.attempted',
        task: taskUuid,
        attempt: 2,
        delivery: 'acknowledged',
        acknowledgedInTx: true,
      },
    ]);
  });

  it('stamps persisted events with the trace context of the attempt, passed on to subscribers', async () => {
    const { taskUuid } = await run('retry_then_publish');
    const { rows: tasks } = await testDb!.db.query<{ traceparent: string }>(
      'SELECT traceparent FROM tasker.tasks WHERE task_uuid = $1',
      [taskUuid],
    );
    const queue = domainEventsQueue(NS);
    const { rows } = await testDb!.db.query<{ id: string; traceparent: string | null }>(
      `SELECT message->>'id' AS id, headers->>'traceparent' AS traceparent FROM pgmq."a_${queue}"
        WHERE message->'metadata'->>'task_uuid' = $1`,
      [taskUuid],
    );
    // No telemetry in this engine: the attempt has no span of its own, so events join the task's.
    expect(rows).toHaveLength(1);
    expect(rows[0]!.traceparent).toBe(tasks[0]!.traceparent);
    expect(traceparents.get(rows[0]!.id)).toBe(tasks[0]!.traceparent);
  });
});
