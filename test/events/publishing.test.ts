/**
 * Publishing domain events from handlers, end to end in one process (startEngine with an
 * orchestrator and a worker) on both databases: what `ctx.publishEvent` refuses, which
 * attempts' events are released (`condition`), the envelope subscribers receive, subscribers
 * that throw or hang, `events.enabled = false`, and the delivery metrics.
 *
 * The handler is scripted by the task context (test/fixtures/events/handlers.ts); the
 * subscribers are defined here and record what they receive.
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { metrics } from '@opentelemetry/api';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { waitForTask } from '../../src/api/task-finished.js';
import { createTask } from '../../src/api/tasks.js';
import { loadConfig } from '../../src/config/load.js';
import { startEngine, type Engine } from '../../src/engine/local-engine.js';
import { domainEventsQueue } from '../../src/engine/queues.js';
import type { DeliveryContext } from '../../src/events/domain/delivery-context.js';
import type { DomainEvent } from '../../src/events/domain/envelope.js';
import { DOMAIN_EVENT_METRIC_NAMES } from '../../src/events/domain/metrics.js';
import type { SubscriberDefinition } from '../../src/events/domain/registry.js';
import type { TaskView } from '../../src/persistence/task-store.js';
import { loadTemplates } from '../../src/templates/load.js';
import type { TemplateRegistry } from '../../src/templates/registry.js';
import { loadHandlerModule } from '../../src/worker/handler-module.js';
import type { Script } from '../fixtures/events/handlers.js';
import { eventually } from '../engine/support/history.js';
import {
  createTestDatabase,
  DATABASE_KINDS,
  keepDatabaseOnFailure,
  type TestDatabase,
} from '../helpers/databases.js';
import { recordMetrics, type RecordedMetrics } from './support/metric-reader.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const NS = 'event_pub';
const QUIET_NS = 'event_off';
const ENGINE_CONFIG = path.join(ROOT, 'test/fixtures/engine/config');
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const DECLARED =
  'order.placed, order.shipped, outcome.succeeded, outcome.failed, outcome.finished, robust.ping';

const envelopeSchema = JSON.parse(
  readFileSync(path.join(ROOT, 'docs/schemas/domain-event.schema.json'), 'utf8'),
) as object;
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormatsModule.default(ajv);
const validateEnvelope = ajv.compile(envelopeSchema);

interface Received {
  subscriber: string;
  event: DomainEvent;
  context?: DeliveryContext;
}

/** Releases the hanging subscriber. */
interface Gate {
  promise: Promise<void>;
  open(): void;
}

function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Waits until a synchronous check of what was recorded returns a value. */
const until = <T>(what: string, check: () => T | undefined): Promise<T> =>
  eventually(what, () => Promise.resolve(check()));

const metric = (namespace: string, event_name: string, delivery_mode: string) => ({
  namespace,
  event_name,
  delivery_mode,
});

describe.each(DATABASE_KINDS)('publishing domain events on %s', { timeout: 180_000 }, (kind) => {
  let testDb: TestDatabase | undefined;
  let engine: Engine | undefined;
  let quietEngine: Engine | undefined;
  let templates: TemplateRegistry;
  let recorded: RecordedMetrics;
  const received: Received[] = [];
  const finishedAttempts: string[] = []; // task uuid per finished attempt
  let hang = gate();
  const hangEntered: DomainEvent[] = [];

  const subscribers: SubscriberDefinition[] = [
    {
      id: 'pub.boom',
      pattern: 'robust.#',
      handle: () => {
        throw new Error('subscriber bug');
      },
    },
    {
      id: 'pub.hang',
      pattern: 'robust.#',
      handle: (event) => {
        hangEntered.push(event);
        return hang.promise;
      },
    },
    {
      id: 'pub.recorder',
      pattern: '#',
      handle: (event) => void received.push({ subscriber: 'recorder', event }),
    },
    {
      id: 'pub.durable',
      pattern: 'order.shipped',
      delivery: 'durable',
      handle: (event, context) =>
        void received.push({ subscriber: 'durable', event, ...(context ? { context } : {}) }),
    },
  ];
  const quietSubscribers: SubscriberDefinition[] = [
    {
      id: 'off.recorder',
      pattern: '#',
      handle: (event) => void received.push({ subscriber: 'off.recorder', event }),
    },
    {
      id: 'off.durable',
      pattern: 'quiet.#',
      delivery: 'durable',
      handle: (event) => void received.push({ subscriber: 'off.durable', event }),
    },
  ];

  beforeAll(async () => {
    // A meter provider of this block's own, registered before the engines create their instruments.
    recorded = recordMetrics();
    metrics.disable();
    metrics.setGlobalMeterProvider(recorded.provider);
    testDb = await createTestDatabase(kind);
    templates = await loadTemplates([path.join(ROOT, 'test/fixtures/events/templates')]);
    const module = await loadHandlerModule(path.join(ROOT, 'test/fixtures/events/handlers.ts'));
    const stepObserver = {
      attemptFinished: (step: { task_uuid: string }) => void finishedAttempts.push(step.task_uuid),
    };
    engine = await startEngine({
      db: testDb.db,
      config: await loadConfig({ root: ENGINE_CONFIG, environ: {} }),
      orchestrator: true,
      worker: { namespaces: [NS], module: { ...module, subscribers } },
      stepObserver,
      id: `publishing-test-${kind}`,
    });
    quietEngine = await startEngine({
      db: testDb.db,
      config: await loadConfig({ root: ENGINE_CONFIG, environ: { TASKER__EVENTS__ENABLED: 'false' } }),
      worker: { namespaces: [QUIET_NS], module: { ...module, subscribers: quietSubscribers } },
      stepObserver,
      id: `publishing-quiet-${kind}`,
    });
  }, 120_000);

  afterAll(async () => {
    hang.open();
    await quietEngine?.stop();
    await engine?.stop();
    await testDb?.dispose();
    metrics.disable();
    await recorded?.provider.shutdown();
  });

  beforeEach(() => keepDatabaseOnFailure());

  async function create(script: Script, options: { namespace?: string; correlationId?: string } = {}) {
    const namespace = options.namespace ?? NS;
    const template = templates.get(namespace, namespace === NS ? 'scripted' : 'quiet');
    const { taskUuid } = await createTask(testDb!.db, {
      template,
      context: script,
      ...(options.correlationId ? { correlationId: options.correlationId } : {}),
    });
    return taskUuid;
  }

  /**
   * Waits for the task to finish and for the worker to have released the events of every one
   * of its attempts; then (unless told not to, when a subscriber hangs) for the in-process
   * subscribers to have handled them.
   */
  async function settle(taskUuid: string, options: { idle?: boolean } = {}): Promise<TaskView> {
    const task = await waitForTask(testDb!.db, taskUuid, { timeoutMs: 90_000, pollIntervalMs: 100 });
    const attempts = task.steps.reduce((sum, step) => sum + step.attempts, 0);
    await until('every attempt to be released', () =>
      finishedAttempts.filter((uuid) => uuid === taskUuid).length >= attempts ? true : undefined,
    );
    if (options.idle !== false) {
      await engine!.events!.dispatcher.idle();
      await quietEngine!.events!.dispatcher.idle();
    }
    return task;
  }

  async function run(script: Script, options: { namespace?: string; correlationId?: string } = {}) {
    const taskUuid = await create(script, options);
    return { taskUuid, task: await settle(taskUuid) };
  }

  /** What a subscriber received from one task: `name@attempt` (or the name alone), in order. */
  function receivedBy(subscriber: string, taskUuid: string): string[] {
    return received
      .filter((item) => item.subscriber === subscriber && item.event.metadata.task_uuid === taskUuid)
      .map(({ event }) => {
        const attempt = (event.payload as { attempt?: number }).attempt;
        return attempt === undefined ? event.name : `${event.name}@${attempt}`;
      });
  }

  const act = (task: TaskView) => task.steps.find((step) => step.name === 'act')!;

  it('throws a clear error into the handler for an event the step did not declare', async () => {
    const { taskUuid, task } = await run({
      publish: [{ name: 'order.placed', payload: { order_id: 'o-1', amount: 1 } }, { name: 'order.unknown' }],
    });
    const message = `step act does not declare event "order.unknown" in publishes_events (it declares: ${DECLARED})`;
    expect(task.status).toBe('error');
    expect(act(task)).toMatchObject({ state: 'error', attempts: 2, error: { name: 'TaskerError', message } });
    // Its attempts failed, so the event published before the bad one never went out.
    expect(receivedBy('recorder', taskUuid)).toEqual([]);

    const { task: caught } = await run({ publish: [{ name: 'order.unknown' }], catch_publish_errors: true });
    expect(caught.status).toBe('complete');
    expect(act(caught).result).toEqual({
      attempt: 1,
      caught: [{ name: 'TaskerError', code: 'EVENT_INVALID', message }],
    });
  });

  it("throws ajv's messages into the handler for a payload that fails the schema", async () => {
    const { task } = await run({
      publish: [{ name: 'order.placed', payload: { order_id: '', amount: 'ten', discount: 5 } }],
    });
    expect(task.status).toBe('error');
    const error = act(task).error as { name: string; message: string };
    expect(error.name).toBe('TaskerError');
    expect(error.message).toMatch(/^payload of event order\.placed does not match its schema: /);
    for (const part of [
      '(root) must NOT have additional properties ("discount")',
      '/order_id must NOT have fewer than 1 characters',
      '/amount must be number',
    ]) {
      expect(error.message).toContain(part);
    }
  });

  it('delivers the events of a retried step once: those of its successful attempt', async () => {
    const before = await recorded.counter(
      DOMAIN_EVENT_METRIC_NAMES.published,
      metric(NS, 'order.placed', 'fire_and_forget'),
    );
    const { taskUuid, task } = await run({
      publish: [{ name: 'order.placed', payload: { order_id: 'o-retry', amount: 5 }, with_attempt: true }],
      fail: 'first_attempt',
    });
    expect(task.status).toBe('complete');
    expect(act(task).attempts).toBe(2);
    expect(receivedBy('recorder', taskUuid)).toEqual(['order.placed@2']);
    const event = received.find((item) => item.event.metadata.task_uuid === taskUuid)!.event;
    expect(event.payload).toEqual({ order_id: 'o-retry', amount: 5, attempt: 2 });
    const after = await recorded.counter(
      DOMAIN_EVENT_METRIC_NAMES.published,
      metric(NS, 'order.placed', 'fire_and_forget'),
    );
    expect(after - before).toBe(1);
  });

  it('releases condition: failure events when an attempt fails, always events either way', async () => {
    const outcomes: Script['publish'] = ['outcome.succeeded', 'outcome.failed', 'outcome.finished'].map(
      (name) => ({
        name,
        with_attempt: true,
      }),
    );
    const failed = await run({ publish: outcomes, fail: 'permanent' });
    expect(failed.task.status).toBe('error');
    expect(receivedBy('recorder', failed.taskUuid)).toEqual(['outcome.failed@1', 'outcome.finished@1']);

    const succeeded = await run({ publish: outcomes });
    expect(succeeded.task.status).toBe('complete');
    expect(receivedBy('recorder', succeeded.taskUuid)).toEqual(['outcome.succeeded@1', 'outcome.finished@1']);

    // Every failed attempt releases its failure events, also one that is retried.
    const retried = await run({ publish: outcomes, fail: 'first_attempt' });
    expect(retried.task.status).toBe('complete');
    expect(receivedBy('recorder', retried.taskUuid)).toEqual([
      'outcome.failed@1',
      'outcome.finished@1',
      'outcome.succeeded@2',
      'outcome.finished@2',
    ]);
  });

  it('keeps a throwing and a hanging subscriber from disturbing the task, the worker and the others', async () => {
    const failedBefore = await recorded.counter(
      DOMAIN_EVENT_METRIC_NAMES.failed,
      metric(NS, 'robust.ping', 'fire_and_forget'),
    );
    const first = await create({ publish: [{ name: 'robust.ping', payload: { n: 1 } }] });
    const firstTask = await settle(first, { idle: false });
    const second = await create({ publish: [{ name: 'robust.ping', payload: { n: 2 } }] });
    const secondTask = await settle(second, { idle: false });
    expect([firstTask.status, secondTask.status]).toEqual(['complete', 'complete']);
    // The worker goes on with other tasks while the hanging subscriber still holds the first event.
    const other = await create({
      publish: [{ name: 'order.placed', payload: { order_id: 'o-2', amount: 2 } }],
    });
    expect((await settle(other, { idle: false })).status).toBe('complete');
    await until('the recorder to receive all three', () =>
      [first, second, other].every((uuid) => receivedBy('recorder', uuid).length === 1) ? true : undefined,
    );
    expect(hangEntered.map((event) => event.metadata.task_uuid)).toEqual([first]);
    expect(
      await eventually('both failures to be counted', async () => {
        const failed = await recorded.counter(
          DOMAIN_EVENT_METRIC_NAMES.failed,
          metric(NS, 'robust.ping', 'fire_and_forget'),
        );
        return failed - failedBefore === 2 ? failed - failedBefore : undefined;
      }),
    ).toBe(2);

    hang.open();
    await engine!.events!.dispatcher.idle();
    hang = gate();
    expect(hangEntered.map((event) => event.metadata.task_uuid)).toEqual([first, second]);
    const stats = Object.fromEntries(engine!.events!.dispatcher.stats().map((s) => [s.id, s]));
    expect(stats['pub.boom']).toMatchObject({ delivered: 0, failed: 2, dropped: 0, queued: 0 });
    expect(stats['pub.hang']).toMatchObject({ delivered: 2, failed: 0, dropped: 0, queued: 0 });
  });

  it('hands subscribers the envelope of DESIGN.md, in process and through the namespace queue', async () => {
    const before = Date.now();
    const correlationId = `corr-envelope-${kind}`;
    const taskUuid = await create(
      {
        publish: [
          { name: 'order.placed', payload: { order_id: 'o-env', amount: 12.5 } },
          { name: 'order.shipped', payload: { carrier: 'dhl', parcels: [1, 2] } },
        ],
      },
      { correlationId },
    );
    const task = await settle(taskUuid);
    const after = Date.now();
    expect(task.status).toBe('complete');
    const { rows } = await testDb!.db.query<{ step_uuid: string }>(
      `SELECT step_uuid FROM tasker.workflow_steps WHERE task_uuid = $1 AND name = 'act'`,
      [taskUuid],
    );
    const inProcess = received.filter(
      (item) => item.subscriber === 'recorder' && item.event.metadata.task_uuid === taskUuid,
    );
    expect(inProcess.map((item) => item.event.name)).toEqual(['order.placed', 'order.shipped']);
    const durable = await until('the durable subscriber to receive order.shipped', () =>
      received.find((item) => item.subscriber === 'durable' && item.event.metadata.task_uuid === taskUuid),
    );

    for (const { event } of inProcess) {
      expect(Object.keys(event).sort()).toEqual(['id', 'metadata', 'name', 'payload']);
      expect(Object.keys(event.metadata).sort()).toEqual([
        'correlation_id',
        'fired_at',
        'fired_by',
        'namespace',
        'step_name',
        'step_uuid',
        'task_uuid',
      ]);
      expect(event.id).toMatch(UUID_V7);
      expect(event.metadata).toEqual({
        task_uuid: taskUuid,
        step_uuid: rows[0]!.step_uuid,
        step_name: 'act',
        namespace: NS,
        correlation_id: correlationId,
        fired_at: event.metadata.fired_at,
        fired_by: `publishing-test-${kind}`,
      });
      const firedAt = Date.parse(event.metadata.fired_at);
      expect(new Date(firedAt).toISOString()).toBe(event.metadata.fired_at);
      expect(firedAt).toBeGreaterThanOrEqual(before);
      expect(firedAt).toBeLessThanOrEqual(after);
      expect(validateEnvelope(event), JSON.stringify(validateEnvelope.errors)).toBe(true);
    }
    expect(inProcess[0]!.event.payload).toEqual({ order_id: 'o-env', amount: 12.5 });
    expect(inProcess[0]!.event.id < inProcess[1]!.event.id).toBe(true); // UUIDv7: publish order
    // The copy read back from PostgreSQL is the same envelope, field for field.
    expect(durable.event).toEqual(inProcess[1]!.event);
    expect(validateEnvelope(durable.event)).toBe(true);
    expect(durable.context).toMatchObject({ subscriberId: 'pub.durable', delivery: 'durable', attempt: 1 });
  });

  it('delivers nothing when events.enabled is false, and still checks what is published', async () => {
    const { taskUuid, task } = await run(
      { publish: [{ name: 'quiet.happened' }, { name: 'quiet.persisted' }] },
      { namespace: QUIET_NS },
    );
    expect(task.status).toBe('complete');
    expect(received.filter((item) => item.event.metadata.task_uuid === taskUuid)).toEqual([]);
    // Nothing was written to the namespace queue, so no durable subscriber can ever get it.
    const queue = domainEventsQueue(QUIET_NS);
    const { rows } = await testDb!.db.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM pgmq."q_${queue}") + (SELECT count(*) FROM pgmq."a_${queue}") AS n`,
    );
    expect(Number(rows[0]!.n)).toBe(0);
    for (const name of ['quiet.happened', 'quiet.persisted']) {
      for (const mode of ['fire_and_forget', 'durable']) {
        expect(
          await recorded.counter(DOMAIN_EVENT_METRIC_NAMES.published, metric(QUIET_NS, name, mode)),
        ).toBe(0);
      }
    }

    const { task: invalid } = await run(
      { publish: [{ name: 'quiet.checked', payload: { ok: 'yes' } }] },
      { namespace: QUIET_NS },
    );
    expect(invalid.status).toBe('error');
    expect(act(invalid).error).toMatchObject({
      message: 'payload of event quiet.checked does not match its schema: /ok must be boolean',
    });
  });

  it('counts published and delivered events per namespace, name and delivery mode', async () => {
    const { published, delivered, deliveryDuration } = DOMAIN_EVENT_METRIC_NAMES;
    const read = async () => ({
      placedPublished: await recorded.counter(published, metric(NS, 'order.placed', 'fire_and_forget')),
      placedDelivered: await recorded.counter(delivered, metric(NS, 'order.placed', 'fire_and_forget')),
      shippedPublished: await recorded.counter(published, metric(NS, 'order.shipped', 'durable')),
      shippedInProcess: await recorded.counter(delivered, metric(NS, 'order.shipped', 'fire_and_forget')),
      shippedDurable: await recorded.counter(delivered, metric(NS, 'order.shipped', 'durable')),
      latencies: (await recorded.histogram(deliveryDuration, metric(NS, 'order.placed', 'fire_and_forget')))
        .count,
    });
    const before = await read();
    const { taskUuid } = await run({
      publish: [
        { name: 'order.placed', payload: { order_id: 'o-m1', amount: 1 } },
        { name: 'order.placed', payload: { order_id: 'o-m2', amount: 2 } },
        { name: 'order.shipped' },
      ],
    });
    await until('the durable delivery', () =>
      received.some((item) => item.subscriber === 'durable' && item.event.metadata.task_uuid === taskUuid)
        ? true
        : undefined,
    );
    const after = await eventually('the durable delivery to be counted', async () => {
      const now = await read();
      return now.shippedDurable > before.shippedDurable ? now : undefined;
    });
    expect({
      placedPublished: after.placedPublished - before.placedPublished,
      placedDelivered: after.placedDelivered - before.placedDelivered,
      shippedPublished: after.shippedPublished - before.shippedPublished,
      shippedInProcess: after.shippedInProcess - before.shippedInProcess,
      shippedDurable: after.shippedDurable - before.shippedDurable,
      latencies: after.latencies - before.latencies,
    }).toEqual({
      placedPublished: 2, // declared fire_and_forget
      placedDelivered: 2, // to the one in-process subscriber matching it
      shippedPublished: 1, // declared durable: counted once, under its declared mode
      shippedInProcess: 1, // every event is broadcast in process too
      shippedDurable: 1, // and reaches the durable subscription through the queue
      latencies: 2,
    });
    const histogram = await recorded.histogram(
      deliveryDuration,
      metric(NS, 'order.placed', 'fire_and_forget'),
    );
    expect(histogram.boundaries).toEqual([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1]);
  });
});
