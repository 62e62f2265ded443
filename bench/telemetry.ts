/**
 * `npm run bench -- telemetry`: what enabling the system event telemetry costs. The engine runs
 * in this process (orchestrator and worker) on the local server, the 4-step linear workflow of
 * examples/dags, with telemetry disabled and enabled in alternating rounds. Enabled means the
 * CLI's own SDK wiring (src/cli/telemetry-sdk.ts): batch span processor, OTLP/HTTP protobuf
 * exporters for traces and metrics (every 5 s) and the database gauges, sending to a sink in a
 * child process (a collector is never in the engine's process). Step latency is a task's
 * end-to-end latency divided by its 4 steps. Target: under 10% on p50 step latency and on steps/s.
 *
 * The machine is shared (2 cores, other work on the same PostgreSQL), so the load drifts during
 * a run: rounds go off, on, on, off, … (ABBA) and each overhead is the median over the pairs of
 * neighbouring rounds, which a load spike in one round cannot swing. CPU per step of this
 * process is reported too: it is what telemetry adds, whatever the neighbours do.
 */
import { spawn } from 'node:child_process';
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
import { waitForAllTasks } from './task-completion.js';
import { cpuUsedMs, backendPids, snapshotCpu } from './process-cpu.js';
import { formatCount, formatMs, formatTable, percentile, perSecond, summarize } from './stats.js';

const EXAMPLES = fileURLToPath(new URL('../examples/dags/', import.meta.url));
/** Round modes (true: telemetry enabled), ABBA. */
const ORDER: readonly boolean[] = [
  false,
  true,
  true,
  false,
  false,
  true,
  true,
  false,
  false,
  true,
  true,
  false,
];
const LATENCY_TASKS = 40;
const THROUGHPUT_TASKS = 200;
// Unmeasured, before the first round of each mode: the first tasks of a process pay for JIT
// compilation (of the engine, and of the SDK when enabled).
const WARMUP_TASKS = 200;
// Unmeasured, at the start of every round: each enabled round starts a new SDK, whose task span
// thread loads and compiles its modules; a CLI process pays that once, not per task.
const ROUND_WARMUP_TASKS = 40;
const TARGET_OVERHEAD = 0.1;
const config = configSchema.parse({});

/** An OTLP/HTTP endpoint in a child process that accepts and discards every export. */
async function startSink(): Promise<{ endpoint: string; close(): void }> {
  const code = `const s = require('node:http').createServer((q, r) => { q.resume(); q.on('end', () => r.writeHead(200).end()); });
s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    child.once('exit', () => reject(new Error('the OTLP sink exited')));
  });
  return { endpoint: `http://127.0.0.1:${port}`, close: () => child.kill() };
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

/** Creates `count` tasks at once, then waits for all of them. */
async function allAtOnce(db: Database, template: TaskTemplate, count: number): Promise<void> {
  const created = await Promise.all(
    Array.from({ length: count }, () => createTask(db, { template, context: { even_number: 2 } })),
  );
  await waitForAllTasks(
    db,
    created.map((task) => task.taskUuid),
  );
}

/** What one round measured. */
interface Round {
  enabled: boolean;
  taskMs: number[];
  stepsPerSecond: number;
  /** CPU time of this process per step over the throughput phase, in µs. */
  cpuPerStepUs: number;
  /** Time the engine's thread (the event loop) was busy per step over that phase, in µs. */
  busyPerStepUs: number;
  /** CPU time of the database's backends per step over that phase, in µs. */
  backendPerStepUs: number;
}

/** One round of one mode: tasks one at a time for latency, then many at once for throughput. */
async function round(
  db: Database,
  template: TaskTemplate,
  module: HandlerModule,
  sinkEndpoint: string | undefined,
  warmUp: boolean,
): Promise<Round> {
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
      ...(sdk.taskSpans ? { taskSpans: sdk.taskSpans } : {}),
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
    if (warmUp) {
      await allAtOnce(db, template, WARMUP_TASKS);
      await oneAtATime(db, template, 20);
    }
    await allAtOnce(db, template, ROUND_WARMUP_TASKS);
    await telemetry?.flush();
    const taskMs = await oneAtATime(db, template, LATENCY_TASKS);
    await telemetry?.flush();
    const steps = THROUGHPUT_TASKS * template.steps.length;
    const started = performance.now();
    const backendsBefore = await snapshotCpu(await backendPids(db));
    const cpu = process.cpuUsage();
    const loop = performance.eventLoopUtilization();
    await allAtOnce(db, template, THROUGHPUT_TASKS);
    const elapsed = performance.now() - started;
    // The phase's telemetry work is its cost too, even what finishes after its last task.
    await telemetry?.flush();
    const used = process.cpuUsage(cpu);
    const busy = performance.eventLoopUtilization(loop);
    const backendMs = cpuUsedMs(backendsBefore, await snapshotCpu(await backendPids(db)));
    return {
      enabled: sinkEndpoint !== undefined,
      taskMs,
      stepsPerSecond: perSecond(steps, elapsed),
      cpuPerStepUs: (used.user + used.system) / steps,
      busyPerStepUs: (busy.active * 1000) / steps,
      backendPerStepUs: (backendMs * 1000) / steps,
    };
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

/** Median over neighbouring (off, on) pairs of rounds of `value(on) / value(off)`. */
function pairedRatio(rounds: readonly Round[], value: (round: Round) => number): number {
  const ratios: number[] = [];
  for (let i = 0; i + 1 < rounds.length; i += 2) {
    const [a, b] = [rounds[i]!, rounds[i + 1]!];
    const [off, on] = a.enabled ? [b, a] : [a, b];
    ratios.push(value(on) / value(off));
  }
  return percentile(ratios, 50);
}

/** Runs the telemetry overhead benchmark; true when the overhead stays under the target. */
export async function run(): Promise<boolean> {
  const templates = await loadTemplates([`${EXAMPLES}templates`]);
  const linear = templates.get('dag_examples', 'linear_workflow');
  const module = await loadHandlerModule(`${EXAMPLES}handlers.ts`);
  const sink = await startSink();
  try {
    return await withBenchDatabase(config.database.pool_size, async ({ db, server, serverVersion, pgmq }) => {
      const rounds: Round[] = [];
      const warmed = new Set<boolean>();
      for (const enabled of ORDER) {
        rounds.push(
          await round(db, linear, module, enabled ? sink.endpoint : undefined, !warmed.has(enabled)),
        );
        warmed.add(enabled);
      }
      const steps = linear.steps.length;
      const stepP50 = (round: Round): number => percentile(round.taskMs, 50) / steps;
      const summary = (enabled: boolean) => {
        const mine = rounds.filter((r) => r.enabled === enabled);
        const latency = summarize(mine.flatMap((r) => r.taskMs));
        const mean = (value: (round: Round) => number): number =>
          mine.reduce((sum, r) => sum + value(r), 0) / mine.length;
        return {
          p50: latency.p50 / steps,
          p99: latency.p99 / steps,
          taskP50: latency.p50,
          rate: mean((r) => r.stepsPerSecond),
          cpu: mean((r) => r.cpuPerStepUs),
          busy: mean((r) => r.busyPerStepUs),
          backend: mean((r) => r.backendPerStepUs),
        };
      };
      const [disabled, enabled] = [summary(false), summary(true)];
      const latencyOverhead = pairedRatio(rounds, stepP50) - 1;
      const rateOverhead = 1 - pairedRatio(rounds, (r) => r.stepsPerSecond);
      const cpuOverhead = pairedRatio(rounds, (r) => r.cpuPerStepUs) - 1;
      const busyOverhead = pairedRatio(rounds, (r) => r.busyPerStepUs) - 1;
      const backendOverhead = pairedRatio(rounds, (r) => r.backendPerStepUs) - 1;
      const perMode = ORDER.length / 2;
      const cpuModel = os.cpus()[0]?.model ?? 'unknown CPU';
      console.log(
        `\nTelemetry overhead: linear 4-step workflow, engine in-process, PostgreSQL ${serverVersion} at ${server}, ` +
          `pgmq ${pgmq}, ${os.cpus().length} × ${cpuModel}, Node ${process.version}, load average ` +
          `${os.loadavg()[1]!.toFixed(1)}; ${perMode} rounds per mode (ABBA), ${perMode * LATENCY_TASKS} tasks one at a ` +
          `time and ${perMode * THROUGHPUT_TASKS} created at once per mode. Step latency = task latency / ${steps}; ` +
          `overheads are medians over neighbouring round pairs.\n`,
      );
      const row = (label: string, r: typeof disabled): string[] => [
        label,
        formatMs(r.p50),
        formatMs(r.p99),
        formatMs(r.taskP50),
        formatCount(r.rate),
        `${Math.round(r.cpu)} µs`,
        `${Math.round(r.busy)} µs`,
        `${Math.round(r.backend)} µs`,
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
            { header: 'engine thread busy / step', align: 'right' },
            { header: 'PostgreSQL CPU / step', align: 'right' },
          ],
          [
            row('disabled', disabled),
            row('enabled (OTLP/protobuf)', enabled),
            [
              'overhead',
              percent(latencyOverhead),
              '',
              '',
              percent(rateOverhead),
              percent(cpuOverhead),
              percent(busyOverhead),
              percent(backendOverhead),
            ],
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
    sink.close();
  }
}
