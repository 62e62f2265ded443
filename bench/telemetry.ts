/**
 * `npm run bench -- telemetry`: what enabling the system event telemetry costs. The engine runs
 * in this process (orchestrator and worker) on the local server, the 4-step linear workflow of
 * examples/dags, with telemetry disabled and enabled in alternating rounds so that drift on a
 * shared machine hits both alike. Enabled means the CLI's own SDK wiring (src/cli/telemetry-sdk.ts):
 * batch span processor and OTLP/HTTP exporters for traces and metrics, sending to a local sink
 * in this process, plus the database gauges. Step latency is a task's end-to-end latency divided by
 * its 4 steps. Target: under 10% on p50 step latency and on steps/s.
 */
import { createServer } from 'node:http';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { waitForTask } from '../src/api/task-finished.js';
import { createTask } from '../src/api/tasks.js';
import { startTelemetrySdk, type TelemetrySdk } from '../src/cli/telemetry-sdk.js';
import { configSchema } from '../src/config/schema.js';
import type { Database } from '../src/db/database.js';
import { startEngine } from '../src/engine/local-engine.js';
import { createSystemTelemetry, type SystemTelemetry } from '../src/telemetry/system-telemetry.js';
import { loadTemplates } from '../src/templates/load.js';
import type { TaskTemplate } from '../src/templates/types.js';
import { loadHandlerModule, type HandlerModule } from '../src/worker/handler-module.js';
import { withBenchDatabase } from './bench-database.js';
import { formatCount, formatMs, formatTable, perSecond, summarize } from './stats.js';

const EXAMPLES = fileURLToPath(new URL('../examples/dags/', import.meta.url));
// Rounds run in the order off, on, on, off, off, on, on, off (ABBA), so that a drift of the
// shared machine's load over the run weighs on both modes alike.
const ORDER: readonly boolean[] = [false, true, true, false, false, true, true, false];
const LATENCY_TASKS = 50; // per round: 200 each way
const THROUGHPUT_TASKS = 250; // per round: 1,000 each way
const WARMUP_TASKS = 30;
const TARGET_OVERHEAD = 0.1;
const config = configSchema.parse({});

/** A local OTLP/HTTP endpoint that accepts and discards every export. */
async function startSink(): Promise<{ endpoint: string; requests: () => number; close(): Promise<void> }> {
  let count = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      count += 1;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('sink has no port');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    requests: () => count,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface Samples {
  taskMs: number[];
  /** Steps run and milliseconds taken by the throughput phases. */
  steps: number;
  ms: number;
  /** CPU time of this process (engine and telemetry) over the throughput phases, in µs. */
  cpuUs: number;
}

async function finished(db: Database, taskUuid: string): Promise<void> {
  const task = await waitForTask(db, taskUuid, { timeoutMs: 600_000 });
  if (task.status !== 'complete') throw new Error(`task ${taskUuid} ended ${task.status}`);
}

/** Runs tasks one at a time; returns each one's end-to-end milliseconds. */
async function oneAtATime(db: Database, template: TaskTemplate, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    const { taskUuid } = await createTask(db, { template, context: { even_number: 2 } });
    await finished(db, taskUuid);
    samples.push(performance.now() - started);
  }
  return samples;
}

/** Creates `count` tasks at once, then waits for each (one waiter at a time). */
async function allAtOnce(db: Database, template: TaskTemplate, count: number): Promise<void> {
  const created = await Promise.all(
    Array.from({ length: count }, () => createTask(db, { template, context: { even_number: 2 } })),
  );
  for (const { taskUuid } of created) await finished(db, taskUuid);
}

/** One round of one mode: sequential tasks for latency, then many at once for throughput. */
async function round(
  db: Database,
  template: TaskTemplate,
  module: HandlerModule,
  sinkEndpoint: string | undefined,
  samples: Samples,
  warmUp = 0,
): Promise<void> {
  let sdk: TelemetrySdk | undefined;
  let telemetry: SystemTelemetry | undefined;
  if (sinkEndpoint) {
    sdk = await startTelemetrySdk(
      { ...config.telemetry, enabled: true, otlp_endpoint: sinkEndpoint, service_name: 'tasker-bench' },
      'run',
      { OTEL_METRIC_EXPORT_INTERVAL: '5000' },
    );
    telemetry = createSystemTelemetry({
      db,
      tracerProvider: sdk.tracerProvider,
      meterProvider: sdk.meterProvider,
      gauges: true,
    });
  }
  const engine = await startEngine({
    db,
    config,
    orchestrator: true,
    worker: { namespaces: [template.namespace], module },
    ...(telemetry ? { telemetry } : {}),
  });
  try {
    if (warmUp > 0) await oneAtATime(db, template, warmUp);
    samples.taskMs.push(...(await oneAtATime(db, template, LATENCY_TASKS)));
    const started = performance.now();
    const cpu = process.cpuUsage();
    await allAtOnce(db, template, THROUGHPUT_TASKS);
    const used = process.cpuUsage(cpu);
    samples.ms += performance.now() - started;
    samples.cpuUs += used.user + used.system;
    samples.steps += THROUGHPUT_TASKS * template.steps.length;
  } finally {
    await engine.stop();
    await telemetry?.close();
    await sdk?.shutdown();
    // Back to no SDK at all for the next disabled round.
    trace.disable();
    metrics.disable();
    context.disable();
    propagation.disable();
  }
}

const percent = (value: number): string => `${(value * 100).toFixed(1)}%`;

/** Runs the telemetry overhead benchmark; true when the overhead stays under the target. */
export async function run(): Promise<boolean> {
  const templates = await loadTemplates([`${EXAMPLES}templates`]);
  const linear = templates.get('dag_examples', 'linear_workflow');
  const module = await loadHandlerModule(`${EXAMPLES}handlers.ts`);
  const sink = await startSink();
  try {
    return await withBenchDatabase(config.database.pool_size, async ({ db, server, serverVersion, pgmq }) => {
      const off: Samples = { taskMs: [], steps: 0, ms: 0, cpuUs: 0 };
      const on: Samples = { taskMs: [], steps: 0, ms: 0, cpuUs: 0 };
      let warm = { off: false, on: false };
      for (const enabled of ORDER) {
        const warmUp = (enabled ? warm.on : warm.off) ? 0 : WARMUP_TASKS;
        warm = enabled ? { ...warm, on: true } : { ...warm, off: true };
        await round(db, linear, module, enabled ? sink.endpoint : undefined, enabled ? on : off, warmUp);
      }
      const steps = linear.steps.length;
      const rows = [off, on].map((samples) => {
        const summary = summarize(samples.taskMs);
        return {
          p50: summary.p50 / steps,
          p99: summary.p99 / steps,
          taskP50: summary.p50,
          rate: perSecond(samples.steps, samples.ms),
          cpuPerStepUs: samples.cpuUs / samples.steps,
        };
      });
      const [disabled, enabled] = rows as [(typeof rows)[0], (typeof rows)[0]];
      const latencyOverhead = enabled.p50 / disabled.p50 - 1;
      const rateOverhead = 1 - enabled.rate / disabled.rate;
      const cpuOverhead = enabled.cpuPerStepUs / disabled.cpuPerStepUs - 1;
      const rounds = ORDER.length / 2;
      const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
      console.log(
        `\nTelemetry overhead: linear 4-step workflow, engine in-process, PostgreSQL ${serverVersion} at ${server}, ` +
          `pgmq ${pgmq}, ${os.cpus().length} × ${cpu}, Node ${process.version}; ${rounds} rounds per mode (ABBA), ` +
          `${rounds * LATENCY_TASKS} tasks one at a time and ${rounds * THROUGHPUT_TASKS} created at once per mode; ` +
          `${sink.requests()} OTLP exports received. Step latency = task latency / ${steps}.\n`,
      );
      const row = (label: string, r: (typeof rows)[0]): string[] => [
        label,
        formatMs(r.p50),
        formatMs(r.p99),
        formatMs(r.taskP50),
        formatCount(r.rate),
        `${Math.round(r.cpuPerStepUs)} µs`,
      ];
      console.log(
        formatTable(
          [
            { header: 'telemetry' },
            { header: 'step p50', align: 'right' },
            { header: 'step p99', align: 'right' },
            { header: 'task p50', align: 'right' },
            { header: 'steps/s', align: 'right' },
            { header: 'CPU / step (this process)', align: 'right' },
          ],
          [
            row('disabled', disabled),
            row('enabled (OTLP)', enabled),
            ['overhead', percent(latencyOverhead), '', '', percent(rateOverhead), percent(cpuOverhead)],
          ],
        ),
      );
      const passed = latencyOverhead < TARGET_OVERHEAD && rateOverhead < TARGET_OVERHEAD;
      console.log(
        `\ntarget: < ${percent(TARGET_OVERHEAD)} on step p50 and steps/s: ${passed ? 'met' : 'NOT met'}\n`,
      );
      return passed;
    });
  } finally {
    await sink.close();
  }
}
