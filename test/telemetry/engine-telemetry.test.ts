/**
 * System events as OpenTelemetry, end to end in one process: the engine runs workflows against
 * each database kind with in-memory exporters, and the tests assert the exact span tree, span
 * events and metric values.
 */
import { fileURLToPath } from 'node:url';
import { context, metrics, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cancelTask } from '../../src/api/manual-actions.js';
import { waitForTask } from '../../src/api/task-finished.js';
import { createTask } from '../../src/api/tasks.js';
import { configSchema } from '../../src/config/schema.js';
import { startEngine, type Engine } from '../../src/engine/local-engine.js';
import { createSystemTelemetry, type SystemTelemetry } from '../../src/telemetry/system-telemetry.js';
import { parseTraceParent } from '../../src/telemetry/trace-context.js';
import { loadTemplates } from '../../src/templates/load.js';
import type { TemplateRegistry } from '../../src/templates/registry.js';
import { loadHandlerModule, type HandlerModule } from '../../src/worker/handler-module.js';
import {
  createTestDatabase,
  DATABASE_KINDS,
  keepDatabaseOnFailure,
  type TestDatabase,
} from '../helpers/databases.js';
import { createRecorder, type Recorder } from './support/recorder.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/telemetry/', import.meta.url));
const NS = 'telemetry_test';
const QUEUE = 'worker_telemetry_test_queue';
const WORKER_ID = 'telemetry-test-worker';
const config = configSchema.parse({
  orchestration: { poll_interval_ms: 100, retry_scan_interval_ms: 20 },
  worker: { poll_interval_ms: 100 },
});

/** Event names produced by task transitions and by step transitions (disjoint sets). */
const TASK_SUBJECT = new Set([
  'task.before_transition',
  'task.start_requested',
  'workflow.task_started',
  'task.steps_discovery_completed',
  'workflow.viable_steps_discovered',
  'task.steps_enqueued',
  'task.step_results_received',
  'workflow.orchestration_requested',
  'task.awaiting_dependencies',
  'workflow.no_viable_steps',
  'task.retry_backoff_started',
  'task.blocked_by_failures',
  'workflow.task_completed',
  'workflow.task_failed',
  'task.cancelled',
  'task.resolved_manually',
]);

type Ev = [string, Attributes];

const hrToMicros = (time: [number, number]): number => time[0] * 1_000_000 + Math.round(time[1] / 1000);

function events(span: ReadableSpan): Ev[] {
  return span.events.map((event) => [event.name, event.attributes ?? {}]);
}

/** Builders of the expected events of one task. */
function expectations() {
  const step = (name: string): Attributes => ({ 'tasker.step.name': name });
  const attempt = (name: string, n: number): Attributes => ({ ...step(name), 'tasker.step.attempt': n });
  const steps = (names: string[]): Attributes => ({
    'tasker.steps.names': names,
    'tasker.steps.count': names.length,
  });
  const queue = { 'messaging.system': 'pgmq', 'messaging.destination.name': QUEUE };
  return {
    task: (from: string, to: string): Ev => [
      'task.before_transition',
      { 'tasker.transition.from': from, 'tasker.transition.to': to },
    ],
    start: (): Ev[] => [
      [
        'task.before_transition',
        { 'tasker.transition.from': 'pending', 'tasker.transition.to': 'initializing' },
      ],
      ['task.start_requested', {}],
      ['workflow.task_started', {}],
    ],
    discovered: (from: string, names: string[]): Ev[] => [
      [
        'task.before_transition',
        { 'tasker.transition.from': from, 'tasker.transition.to': 'enqueuing_steps' },
      ],
      ['task.steps_discovery_completed', steps(names)],
      ['workflow.viable_steps_discovered', steps(names)],
      [
        'task.before_transition',
        { 'tasker.transition.from': 'enqueuing_steps', 'tasker.transition.to': 'steps_in_process' },
      ],
      ['task.steps_enqueued', { ...steps(names), ...queue }],
    ],
    result: (from: string, name: string, n: number, state: string): Ev[] => [
      [
        'task.before_transition',
        { 'tasker.transition.from': from, 'tasker.transition.to': 'evaluating_results' },
      ],
      ['task.step_results_received', { ...attempt(name, n), 'tasker.step.state': state }],
      ['workflow.orchestration_requested', { 'tasker.orchestration.trigger': 'step_result' }],
    ],
    stepMove: (name: string, from: string, to: string, extra: Attributes = {}): Ev => [
      'step.before_transition',
      { ...step(name), 'tasker.transition.from': from, 'tasker.transition.to': to, ...extra },
    ],
    created: (name: string): Ev[] => [
      [
        'step.before_transition',
        { ...step(name), 'tasker.transition.from': 'none', 'tasker.transition.to': 'pending' },
      ],
      ['step.initialize_requested', step(name)],
    ],
    enqueued: (name: string, n: number, from = 'pending'): Ev[] => [
      [
        'step.before_transition',
        { ...attempt(name, n), 'tasker.transition.from': from, 'tasker.transition.to': 'enqueued' },
      ],
      ...(from === 'waiting_for_retry' ? [['task.retry_requested', attempt(name, n)] as Ev] : []),
      ['step.enqueue_requested', attempt(name, n)],
    ],
    ran: (name: string, n: number, ok: boolean): Ev[] => [
      [
        'step.before_transition',
        {
          ...attempt(name, n),
          'tasker.transition.from': 'enqueued',
          'tasker.transition.to': 'in_progress',
          'tasker.worker.id': WORKER_ID,
        },
      ],
      [
        'step.before_transition',
        {
          ...attempt(name, n),
          'tasker.transition.from': 'in_progress',
          'tasker.transition.to': ok ? 'enqueued_for_orchestration' : 'enqueued_as_error_for_orchestration',
        },
      ],
    ],
    completed: (name: string, n: number): Ev[] => [
      [
        'step.before_transition',
        {
          ...attempt(name, n),
          'tasker.transition.from': 'enqueued_for_orchestration',
          'tasker.transition.to': 'complete',
        },
      ],
      ['workflow.step_completed', attempt(name, n)],
    ],
    step,
    attempt,
  };
}

describe.each(DATABASE_KINDS)('system telemetry on %s', (kind) => {
  let database: TestDatabase;
  let templates: TemplateRegistry;
  let module: HandlerModule;
  let recorder: Recorder;
  let telemetry: SystemTelemetry;
  let engine: Engine | undefined;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    templates = await loadTemplates([`${FIXTURES}templates`]);
    module = await loadHandlerModule(`${FIXTURES}handlers.ts`);
  });
  afterAll(async () => {
    await database?.dispose();
  });

  beforeEach(() => {
    keepDatabaseOnFailure();
    recorder = createRecorder();
    // createTask counts tasker.tasks.requests.total through the global meter provider.
    metrics.setGlobalMeterProvider(recorder.meterProvider);
    telemetry = createSystemTelemetry({
      db: database.db,
      tracerProvider: recorder.tracerProvider,
      meterProvider: recorder.meterProvider,
      gauges: true,
    });
  });
  afterEach(async () => {
    await engine?.stop();
    engine = undefined;
    await telemetry.close();
    await recorder.shutdown();
    metrics.disable();
  });

  async function start(parts: { worker?: boolean } = {}): Promise<void> {
    engine = await startEngine({
      db: database.db,
      config,
      orchestrator: true,
      ...(parts.worker === false ? {} : { worker: { namespaces: [NS], module } }),
      telemetry,
      id: WORKER_ID,
    });
  }

  /** Runs one task to its end and stops the engine, so every span is finished. */
  async function runTask(name: string, taskContext: Record<string, unknown>): Promise<string> {
    await start();
    const { taskUuid } = await createTask(database.db, {
      template: templates.get(NS, name),
      context: taskContext,
    });
    await waitForTask(database.db, taskUuid, { timeoutMs: 30_000 });
    await engine!.stop();
    engine = undefined;
    return taskUuid;
  }

  async function taskFacts(taskUuid: string) {
    const { rows } = await database.db.query<{
      traceparent: string;
      created_us: number;
      completed_us: number;
    }>(
      `SELECT traceparent, (extract(epoch FROM created_at) * 1000000)::bigint AS created_us,
              (extract(epoch FROM completed_at) * 1000000)::bigint AS completed_us
         FROM tasker.tasks WHERE task_uuid = $1`,
      [taskUuid],
    );
    const steps = await database.db.query<{ name: string; step_uuid: string }>(
      'SELECT name, step_uuid FROM tasker.workflow_steps WHERE task_uuid = $1',
      [taskUuid],
    );
    return { ...rows[0]!, stepUuids: new Map(steps.rows.map((row) => [row.name, row.step_uuid])) };
  }

  function taskSpanOf(taskUuid: string): ReadableSpan {
    const found = recorder.spans().filter((span) => span.name === 'task.orchestration');
    expect(found).toHaveLength(1);
    expect(found[0]!.attributes['tasker.task.uuid']).toBe(taskUuid);
    return found[0]!;
  }

  /** Checks the step spans' shape and returns them as `name#attempt`, sorted. */
  function checkStepSpans(
    taskSpan: ReadableSpan,
    taskUuid: string,
    taskName: string,
    stepUuids: Map<string, string>,
  ) {
    const spans = recorder.spans().filter((span) => span.name === 'step.execution');
    const summary = spans.map((span) => {
      const name = String(span.attributes['tasker.step.name']);
      const attempt = Number(span.attributes['tasker.step.attempt']);
      expect(span.kind).toBe(SpanKind.CONSUMER);
      expect(span.spanContext().traceId).toBe(taskSpan.spanContext().traceId);
      expect(span.parentSpanContext?.spanId).toBe(taskSpan.spanContext().spanId);
      expect(span.parentSpanContext?.isRemote).toBe(true);
      const { 'messaging.message.id': messageId, ...attributes } = span.attributes;
      expect(String(messageId)).toMatch(/^\d+$/);
      expect(attributes).toEqual({
        'tasker.task.uuid': taskUuid,
        'tasker.namespace': NS,
        'tasker.task.name': taskName,
        'tasker.task.version': '1.0.0',
        'tasker.step.name': name,
        'tasker.step.uuid': stepUuids.get(name),
        'tasker.step.attempt': attempt,
        'messaging.system': 'pgmq',
        'messaging.destination.name': QUEUE,
        ...(span.status.code === SpanStatusCode.ERROR ? { 'error.type': attributes['error.type'] } : {}),
      });
      const handle = span.events.find((event) => event.name === 'step.handle');
      expect(handle?.attributes?.['tasker.step.outcome']).toBe(
        span.status.code === SpanStatusCode.OK ? 'success' : 'failure',
      );
      expect(handle?.attributes?.['tasker.step.handler.duration_ms']).toBeGreaterThanOrEqual(0);
      return {
        step: `${name}#${attempt}`,
        status: span.status,
        events: span.events.map((event) => event.name),
        exception: span.events.find((event) => event.name === 'exception')?.attributes,
      };
    });
    return summary.sort((a, b) => a.step.localeCompare(b.step));
  }

  function checkTimeline(taskSpan: ReadableSpan, facts: { created_us: number; completed_us: number }): void {
    expect(hrToMicros(taskSpan.startTime)).toBe(facts.created_us);
    expect(hrToMicros(taskSpan.endTime)).toBe(facts.completed_us);
    const times = taskSpan.events.map((event) => hrToMicros(event.time));
    expect(times[0]).toBe(facts.created_us);
    expect(times.at(-1)).toBe(facts.completed_us);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  }

  it('records the exact span tree, events and metrics of a diamond whose first step fails once', async () => {
    const taskUuid = await runTask('diamond', { flaky: true });
    const facts = await taskFacts(taskUuid);
    const x = expectations();
    const taskSpan = taskSpanOf(taskUuid);

    // The task span: the ids chosen at creation, no parent, OK, with the whole history.
    const preset = parseTraceParent(facts.traceparent)!;
    expect(taskSpan.spanContext().traceId).toBe(preset.traceId);
    expect(taskSpan.spanContext().spanId).toBe(preset.spanId);
    expect(taskSpan.parentSpanContext).toBeUndefined();
    expect(taskSpan.kind).toBe(SpanKind.INTERNAL);
    expect(taskSpan.status).toEqual({ code: SpanStatusCode.OK });
    expect(taskSpan.attributes).toEqual({
      'tasker.task.uuid': taskUuid,
      'tasker.namespace': NS,
      'tasker.task.name': 'diamond',
      'tasker.task.version': '1.0.0',
      'tasker.task.correlation_id': taskUuid,
      'tasker.task.state': 'complete',
    });
    checkTimeline(taskSpan, facts);

    const all = events(taskSpan);
    // Which branch's result the orchestrator saw first is up to the workers.
    const branches = all
      .filter(
        ([name, attributes]) =>
          name === 'task.step_results_received' && attributes['tasker.step.attempt'] === 1,
      )
      .map(([, attributes]) => String(attributes['tasker.step.name']))
      .filter((name) => name === 'left' || name === 'right');
    expect([...branches].sort()).toEqual(['left', 'right']);
    const [first, second] = branches as [string, string];
    // An orchestrator that reads both branch results in one batch settles both, then evaluates once.
    const batched = !all.some(([name]) => name === 'task.awaiting_dependencies');
    const branchResults: Ev[] = batched
      ? [
          x.task('steps_in_process', 'evaluating_results'),
          ['task.step_results_received', { ...x.attempt(first, 1), 'tasker.step.state': 'complete' }],
          ['task.step_results_received', { ...x.attempt(second, 1), 'tasker.step.state': 'complete' }],
          ['workflow.orchestration_requested', { 'tasker.orchestration.trigger': 'step_result' }],
        ]
      : [
          ...x.result('steps_in_process', first, 1, 'complete'),
          x.task('evaluating_results', 'waiting_for_dependencies'),
          ['task.awaiting_dependencies', {}],
          ['workflow.no_viable_steps', { 'tasker.task.state': 'waiting_for_dependencies' }],
          ...x.result('waiting_for_dependencies', second, 1, 'complete'),
        ];

    expect(all.filter(([name]) => TASK_SUBJECT.has(name))).toEqual([
      x.task('none', 'pending'),
      ...x.start(),
      ...x.discovered('initializing', ['start']),
      ...x.result('steps_in_process', 'start', 1, 'waiting_for_retry'),
      x.task('evaluating_results', 'waiting_for_retry'),
      ['task.retry_backoff_started', {}],
      ['workflow.no_viable_steps', { 'tasker.task.state': 'waiting_for_retry' }],
      x.task('waiting_for_retry', 'evaluating_results'),
      ['workflow.orchestration_requested', { 'tasker.orchestration.trigger': 'retry_due' }],
      ...x.discovered('evaluating_results', ['start']),
      ...x.result('steps_in_process', 'start', 2, 'complete'),
      ...x.discovered('evaluating_results', ['left', 'right']),
      ...branchResults,
      ...x.discovered('evaluating_results', ['join']),
      ...x.result('steps_in_process', 'join', 1, 'complete'),
      x.task('evaluating_results', 'complete'),
      ['workflow.task_completed', {}],
    ]);

    const ofStep = (name: string): Ev[] =>
      all.filter(
        ([event, attributes]) => !TASK_SUBJECT.has(event) && attributes['tasker.step.name'] === name,
      );
    expect(ofStep('start')).toEqual([
      ...x.created('start'),
      ...x.enqueued('start', 1),
      ...x.ran('start', 1, false),
      x.stepMove('start', 'enqueued_as_error_for_orchestration', 'waiting_for_retry', {
        'tasker.step.attempt': 1,
      }),
      ['step.retry_requested', x.attempt('start', 1)],
      ...x.enqueued('start', 2, 'waiting_for_retry'),
      ...x.ran('start', 2, true),
      ...x.completed('start', 2),
    ]);
    for (const name of ['left', 'right', 'join']) {
      expect(ofStep(name)).toEqual([
        ...x.created(name),
        ...x.enqueued(name, 1),
        ...x.ran(name, 1, true),
        ...x.completed(name, 1),
      ]);
    }
    // Nothing else: every event is a task event or belongs to one of the four steps.
    const stepEvents = ['start', 'left', 'right', 'join'].reduce((sum, name) => sum + ofStep(name).length, 0);
    expect(stepEvents + all.filter(([name]) => TASK_SUBJECT.has(name)).length).toBe(all.length);

    // One step span per attempt, children of the task span.
    const ok = ['step.before_handle', 'step.handle', 'step.result_submitted'];
    expect(checkStepSpans(taskSpan, taskUuid, 'diamond', facts.stepUuids)).toEqual([
      { step: 'join#1', status: { code: SpanStatusCode.OK }, events: ok, exception: undefined },
      { step: 'left#1', status: { code: SpanStatusCode.OK }, events: ok, exception: undefined },
      { step: 'right#1', status: { code: SpanStatusCode.OK }, events: ok, exception: undefined },
      {
        step: 'start#1',
        status: { code: SpanStatusCode.ERROR, message: 'Error: the first attempt fails on purpose' },
        events: ['step.before_handle', 'step.handle', 'exception', 'step.result_submitted'],
        exception: { 'exception.type': 'Error', 'exception.message': 'the first attempt fails on purpose' },
      },
      { step: 'start#2', status: { code: SpanStatusCode.OK }, events: ok, exception: undefined },
    ]);
    expect(recorder.spans()).toHaveLength(6);

    // Counters, exactly as the spec's tables.
    expect(await recorder.counter('tasker.tasks.requests.total', { namespace: NS })).toBe(1);
    expect(await recorder.counter('tasker.tasks.completions.total', { namespace: NS })).toBe(1);
    expect(await recorder.counterPoints('tasker.tasks.failures.total')).toEqual([]);
    const completions = await recorder.counterPoints('tasker.steps.completions.total');
    expect(
      completions.sort((a, b) =>
        String(a.attributes.step_name).localeCompare(String(b.attributes.step_name)),
      ),
    ).toEqual(
      ['join', 'left', 'right', 'start'].map((step) => ({
        attributes: { namespace: NS, step_name: step },
        value: 1,
      })),
    );
    expect(await recorder.counterPoints('tasker.steps.failures.total')).toEqual([
      { attributes: { namespace: NS, step_name: 'start', error_type: 'Error' }, value: 1 },
    ]);
    const duration = 'tasker.steps.execution.duration';
    expect(
      await recorder.histogramCount(duration, { namespace: NS, step_name: 'start', outcome: 'failure' }),
    ).toBe(1);
    expect(
      await recorder.histogramCount(duration, { namespace: NS, step_name: 'start', outcome: 'success' }),
    ).toBe(1);
    expect(
      await recorder.histogramCount(duration, { namespace: NS, step_name: 'join', outcome: 'success' }),
    ).toBe(1);
    // Nothing waits any more.
    expect(await recorder.gauge('tasker.tasks.waiting', { namespace: NS })).toBe(0);
    expect(await recorder.gauge('tasker.tasks.blocked', { namespace: NS })).toBe(0);
    expect(await recorder.gauge('tasker.steps.ready', { namespace: NS })).toBe(0);
    expect(await recorder.gauge('tasker.queue.depth', { queue: QUEUE })).toBe(0);
  });

  it('ends the task span in error, with the failure counted, when a step fails for good', async () => {
    const taskUuid = await runTask('doomed', {});
    const facts = await taskFacts(taskUuid);
    const x = expectations();
    const taskSpan = taskSpanOf(taskUuid);
    expect(taskSpan.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'step validate failed: PermanentError: refused for good',
    });
    expect(taskSpan.attributes['tasker.task.state']).toBe('error');
    expect(taskSpan.attributes['error.type']).toBe('PermanentError');
    checkTimeline(taskSpan, facts);

    const all = events(taskSpan);
    expect(all.filter(([name]) => TASK_SUBJECT.has(name))).toEqual([
      x.task('none', 'pending'),
      ...x.start(),
      ...x.discovered('initializing', ['validate']),
      ...x.result('steps_in_process', 'validate', 1, 'error'),
      x.task('evaluating_results', 'blocked_by_failures'),
      ['task.blocked_by_failures', {}],
      x.task('blocked_by_failures', 'error'),
      ['workflow.task_failed', { 'error.type': 'PermanentError', 'tasker.step.name': 'validate' }],
    ]);
    expect(all.filter(([name]) => !TASK_SUBJECT.has(name))).toEqual([
      ...x.created('validate'),
      ...x.created('after'),
      ...x.enqueued('validate', 1),
      ...x.ran('validate', 1, false),
      x.stepMove('validate', 'enqueued_as_error_for_orchestration', 'error', { 'tasker.step.attempt': 1 }),
      ['workflow.step_failed', { ...x.attempt('validate', 1), 'error.type': 'PermanentError' }],
    ]);

    expect(checkStepSpans(taskSpan, taskUuid, 'doomed', facts.stepUuids)).toEqual([
      {
        step: 'validate#1',
        status: { code: SpanStatusCode.ERROR, message: 'PermanentError: refused for good' },
        events: ['step.before_handle', 'step.handle', 'exception', 'step.result_submitted'],
        exception: { 'exception.type': 'PermanentError', 'exception.message': 'refused for good' },
      },
    ]);
    const stepSpan = recorder.spans().find((span) => span.name === 'step.execution')!;
    expect(stepSpan.attributes['error.type']).toBe('PermanentError');

    expect(await recorder.counterPoints('tasker.tasks.failures.total')).toEqual([
      { attributes: { namespace: NS, error_code: 'PermanentError' }, value: 1 },
    ]);
    expect(await recorder.counterPoints('tasker.steps.failures.total')).toEqual([
      { attributes: { namespace: NS, step_name: 'validate', error_type: 'PermanentError' }, value: 1 },
    ]);
    expect(await recorder.counterPoints('tasker.tasks.completions.total')).toEqual([]);
    expect(await recorder.counterPoints('tasker.steps.completions.total')).toEqual([]);
  });

  it('records a cancelled task (status unset) in the trace of the span that created it', async () => {
    const contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
    try {
      const parent = recorder.tracerProvider.getTracer('test').startSpan('caller');
      const { taskUuid } = await context.with(trace.setSpan(context.active(), parent), () =>
        createTask(database.db, { template: templates.get(NS, 'doomed'), context: {} }),
      );
      parent.end();
      await cancelTask(database.db, taskUuid, { reason: 'no longer needed', actor: 'ops' });
      await telemetry.recordFinishedTask(taskUuid);

      const facts = await taskFacts(taskUuid);
      const x = expectations();
      const taskSpan = taskSpanOf(taskUuid);
      expect(taskSpan.spanContext().traceId).toBe(parent.spanContext().traceId);
      expect(taskSpan.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
      expect(taskSpan.status).toEqual({ code: SpanStatusCode.UNSET });
      expect(taskSpan.attributes['tasker.task.state']).toBe('cancelled');
      checkTimeline(taskSpan, facts);
      const manual = { 'tasker.manual.reason': 'no longer needed', 'tasker.manual.actor': 'ops' };
      const cancelled = (name: string): Ev[] => [
        x.stepMove(name, 'pending', 'cancelled'),
        ['step.cancelled', { ...x.step(name), ...manual }],
      ];
      expect(events(taskSpan)).toEqual([
        x.task('none', 'pending'),
        ...x.created('validate'),
        ...x.created('after'),
        ...cancelled('validate'),
        ...cancelled('after'),
        x.task('pending', 'cancelled'),
        ['task.cancelled', manual],
      ]);
      expect(await recorder.counter('tasker.tasks.requests.total', { namespace: NS })).toBe(1);
      expect(await recorder.counterPoints('tasker.tasks.completions.total')).toEqual([]);
    } finally {
      context.disable();
    }
  });

  it('reports steps enqueued and queue depth as gauges read from the database', async () => {
    // An orchestrator without a worker: the first step stays enqueued.
    await start({ worker: false });
    const { taskUuid } = await createTask(database.db, {
      template: templates.get(NS, 'diamond'),
      context: {},
    });
    for (let i = 0; i < 300; i++) {
      const { rows } = await database.db.query<{ state: string }>(
        `SELECT state FROM tasker.workflow_steps WHERE task_uuid = $1 AND name = 'start'`,
        [taskUuid],
      );
      if (rows[0]?.state === 'enqueued') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const { rows } = await database.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM tasker.workflow_steps s JOIN tasker.tasks t ON t.task_uuid = s.task_uuid
        WHERE s.state = 'enqueued' AND t.namespace = $1`,
      [NS],
    );
    expect(rows[0]!.n).toBeGreaterThanOrEqual(1);
    expect(await recorder.gauge('tasker.steps.ready', { namespace: NS })).toBe(rows[0]!.n);
    expect(await recorder.gauge('tasker.queue.depth', { queue: QUEUE })).toBe(rows[0]!.n);
    expect(await recorder.gauge('tasker.queue.oldest_message_age', { queue: QUEUE })).toBeGreaterThanOrEqual(
      0,
    );
    await cancelTask(database.db, taskUuid);
  });
});
