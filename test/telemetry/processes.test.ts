/**
 * Telemetry across OS processes on the real server: two `tasker orchestrator` processes and a
 * `tasker worker` started from bin/tasker.js with TELEMETRY_ENABLED, exporting over OTLP/HTTP
 * (the orchestrators in JSON, the worker in protobuf) to a receiver in this test and serving Prometheus scrapes. The task span (recorded by
 * whichever orchestrator finished the task) and the step spans (recorded by the worker) must
 * form one trace.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForTask } from '../../src/api/task-finished.js';
import { createTask } from '../../src/api/tasks.js';
import { parseTraceParent } from '../../src/telemetry/trace-context.js';
import { loadTemplates } from '../../src/templates/load.js';
import { killAll, ROOT, spawnTasker, type TaskerProcess } from '../engine/support/processes.js';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../helpers/databases.js';
import { freePort, startOtlpReceiver, type OtlpReceiver } from './support/otlp-receiver.js';
import { parsePrometheusText, samplesOf, type PromScrape } from './support/prometheus.js';

const NS = 'telemetry_test';

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: OtlpAttribute[];
  events: Array<{ name: string }>;
  status?: { code?: number };
}
interface OtlpResource {
  attributes: OtlpAttribute[];
}
interface TraceExport {
  resourceSpans: Array<{ resource: OtlpResource; scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
}
interface OtlpDataPoint {
  attributes: OtlpAttribute[];
  asInt?: number | string;
  asDouble?: number;
  count?: number | string;
}
interface OtlpMetric {
  name: string;
  sum?: { dataPoints: OtlpDataPoint[]; isMonotonic?: boolean };
  gauge?: { dataPoints: OtlpDataPoint[] };
  histogram?: { dataPoints: OtlpDataPoint[] };
}
interface MetricExport {
  resourceMetrics: Array<{ resource: OtlpResource; scopeMetrics: Array<{ metrics: OtlpMetric[] }> }>;
}

const attr = (attributes: OtlpAttribute[], key: string): unknown => {
  const value = attributes.find((attribute) => attribute.key === key)?.value;
  return value?.stringValue ?? value?.intValue ?? value?.boolValue ?? value?.doubleValue;
};

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('telemetry of separate orchestrator and worker processes', { timeout: 300_000 }, () => {
  let testDb: TestDatabase;
  let receiver: OtlpReceiver;

  beforeAll(async () => {
    testDb = await createTestDatabase('postgres');
    receiver = await startOtlpReceiver();
  });

  afterAll(async () => {
    await killAll();
    await receiver?.close();
    await testDb?.dispose();
  });

  it('exports one trace per task over OTLP, metrics over OTLP and Prometheus scrapes', async () => {
    keepDatabaseOnFailure();
    const ports = { a: await freePort(), b: await freePort(), worker: await freePort() };
    // The orchestrators export JSON, the worker protobuf (the default encoding).
    const env = (service: string, port: number, protocol?: string): Record<string, string | undefined> => ({
      DATABASE_URL: testDb.url,
      TASKER_CONFIG_ROOT: path.join(ROOT, 'test/fixtures/engine/config'),
      TASKER_ENV: undefined,
      TELEMETRY_ENABLED: 'true',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_SERVICE_NAME: service,
      DEPLOYMENT_ENVIRONMENT: 'telemetry-test',
      OTEL_METRIC_EXPORT_INTERVAL: '1000',
      TASKER__TELEMETRY__PROMETHEUS_PORT: String(port),
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
    });
    const processes: TaskerProcess[] = [
      spawnTasker(['orchestrator'], env('tasker-orchestrator', ports.a, 'http/json')),
      spawnTasker(['orchestrator'], env('tasker-orchestrator', ports.b, 'http/json')),
      // Results go to the orchestrators, whose counting and task spans this test is about (a worker
      // orchestrating its own results reports to the same observer: engine-telemetry.test.ts).
      spawnTasker(['worker', '--namespace', NS, '--handlers', 'test/fixtures/telemetry/handlers.ts'], {
        ...env('tasker-worker', ports.worker),
        TASKER__WORKER__ORCHESTRATE_RESULTS: 'false',
      }),
    ];
    await Promise.all(processes.map((each) => each.waitForOutput(/running; SIGTERM/)));

    const templates = await loadTemplates([path.join(ROOT, 'test/fixtures/telemetry/templates')]);
    const { taskUuid } = await createTask(testDb.db, {
      template: templates.get(NS, 'diamond'),
      context: { flaky: true },
    });
    const task = await waitForTask(testDb.db, taskUuid, { timeoutMs: 60_000, pollIntervalMs: 200 });
    expect(task.status).toBe('complete');

    // Prometheus: the orchestrators count accepted results; the worker times handlers.
    const scrape = async (port: number): Promise<PromScrape> => {
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(response.status).toBe(200);
      return parsePrometheusText(await response.text());
    };
    const total = (scrapes: PromScrape[], name: string, labels: Record<string, string>): number =>
      scrapes.flatMap((each) => samplesOf(each, name, labels)).reduce((sum, sample) => sum + sample.value, 0);
    const orchestrators = await eventually('both results counted and the task span recorded', async () => {
      const both = [await scrape(ports.a), await scrape(ports.b)];
      return total(both, 'tasker_tasks_completions_total', { namespace: NS }) === 1 ? both : undefined;
    });
    for (const step of ['start', 'left', 'right', 'join']) {
      expect(total(orchestrators, 'tasker_steps_completions_total', { namespace: NS, step_name: step })).toBe(
        1,
      );
    }
    expect(
      total(orchestrators, 'tasker_steps_failures_total', {
        namespace: NS,
        step_name: 'start',
        error_type: 'Error',
      }),
    ).toBe(1);
    // Either orchestrator may have accepted every result; only one that counted declares the type.
    const counting = orchestrators.filter((each) => each.types.has('tasker_steps_completions_total'));
    expect(counting.length).toBeGreaterThan(0);
    for (const each of counting) expect(each.types.get('tasker_steps_completions_total')).toBe('counter');
    expect(samplesOf(orchestrators[0]!, 'tasker_tasks_waiting', { namespace: NS })).toHaveLength(1);
    expect(samplesOf(orchestrators[0]!, 'tasker_queue_depth', { queue: `worker_${NS}_queue` })).toHaveLength(
      1,
    );
    const worker = await scrape(ports.worker);
    expect(worker.types.get('tasker_steps_execution_duration')).toBe('histogram');
    const count = (outcome: string, step: string): number =>
      total([worker], 'tasker_steps_execution_duration_count', { namespace: NS, step_name: step, outcome });
    expect([count('failure', 'start'), count('success', 'start'), count('success', 'join')]).toEqual([
      1, 1, 1,
    ]);

    // A graceful stop flushes the spans and a last metric collection.
    for (const each of processes) each.child.kill('SIGTERM');
    const exits = await Promise.all(processes.map((each) => each.exited));
    expect(exits.map((exit) => exit.code)).toEqual([0, 0, 0]);

    expect(receiver.encodings('/v1/traces')).toEqual(new Set(['json', 'protobuf']));
    expect(receiver.encodings('/v1/metrics')).toEqual(new Set(['json', 'protobuf']));
    const spans = (receiver.received('/v1/traces') as TraceExport[]).flatMap((body) =>
      body.resourceSpans.flatMap((resource) =>
        resource.scopeSpans.flatMap((scope) =>
          scope.spans.map((span) => ({
            ...span,
            service: attr(resource.resource.attributes, 'service.name'),
          })),
        ),
      ),
    );
    const taskSpans = spans.filter((span) => span.name === 'task.orchestration');
    expect(taskSpans).toHaveLength(1);
    const taskSpan = taskSpans[0]!;
    const { rows } = await testDb.db.query<{ traceparent: string }>(
      'SELECT traceparent FROM tasker.tasks WHERE task_uuid = $1',
      [taskUuid],
    );
    const preset = parseTraceParent(rows[0]!.traceparent)!;
    expect(taskSpan).toMatchObject({
      traceId: preset.traceId,
      spanId: preset.spanId,
      service: 'tasker-orchestrator',
    });
    expect(taskSpan.parentSpanId ?? '').toBe('');
    expect(attr(taskSpan.attributes, 'tasker.task.uuid')).toBe(taskUuid);
    expect(taskSpan.events.map((event) => event.name)).toContain('task.retry_backoff_started');

    const stepSpans = spans.filter((span) => span.name === 'step.execution');
    expect(
      stepSpans
        .map(
          (span) =>
            `${String(attr(span.attributes, 'tasker.step.name'))}#${String(attr(span.attributes, 'tasker.step.attempt'))}`,
        )
        .sort(),
    ).toEqual(['join#1', 'left#1', 'right#1', 'start#1', 'start#2']);
    for (const span of stepSpans) {
      expect(span).toMatchObject({
        traceId: preset.traceId,
        parentSpanId: preset.spanId,
        service: 'tasker-worker',
      });
      expect(span.events.map((event) => event.name)).toContain('step.result_submitted');
    }
    const resource = (receiver.received('/v1/traces') as TraceExport[])[0]!.resourceSpans[0]!.resource;
    expect(attr(resource.attributes, 'deployment.environment.name')).toBe('telemetry-test');

    // OTLP metrics: the same counters reached the receiver.
    const points = (service: string, name: string): OtlpDataPoint[] =>
      (receiver.received('/v1/metrics') as MetricExport[]).flatMap((body) =>
        body.resourceMetrics
          .filter((resourceMetrics) => attr(resourceMetrics.resource.attributes, 'service.name') === service)
          .flatMap((resourceMetrics) => resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics))
          .filter((metric) => metric.name === name)
          .flatMap(
            (metric) =>
              metric.sum?.dataPoints ?? metric.histogram?.dataPoints ?? metric.gauge?.dataPoints ?? [],
          ),
      );
    const completions = points('tasker-orchestrator', 'tasker.tasks.completions.total');
    expect(
      completions.some(
        (point) => attr(point.attributes, 'namespace') === NS && Number(point.asInt ?? point.asDouble) === 1,
      ),
    ).toBe(true);
    const durations = points('tasker-worker', 'tasker.steps.execution.duration');
    expect(
      durations.some((point) => attr(point.attributes, 'step_name') === 'join' && Number(point.count) === 1),
    ).toBe(true);
  });
});
