/**
 * `npm run bench -- workflow`: end-to-end latency of the 4-step linear and the diamond
 * workflow at low load (one task at a time), and sustained steps per second, with one
 * orchestrator and one worker process on the local server.
 */
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { createTask } from '../src/api/tasks.js';
import { waitForTask } from '../src/api/task-finished.js';
import type { Database } from '../src/db/database.js';
import { loadTemplates } from '../src/templates/load.js';
import type { TaskTemplate } from '../src/templates/types.js';
import { withBenchDatabase } from './bench-database.js';
import { waitForAllTasks } from './task-completion.js';
import { startTasker } from './engine-processes.js';
import { backendPids, cpuUsedMs, snapshotCpu } from './process-cpu.js';
import { formatCount, formatMs, formatTable, perSecond, summarize } from './stats.js';

const EXAMPLES = fileURLToPath(new URL('../examples/dags/', import.meta.url));
const LATENCY_TASKS = 200;
const WARMUP_TASKS = 20;
const THROUGHPUT_TASKS = 2000;
const TARGETS = { p50: 20, p99: 60, stepsPerSecond: 2000 };
/** The engine processes' connections carry this name, so their backends' CPU can be counted. */
const ENGINE_APPLICATION_NAME = 'tasker_bench_engine';

/** Running engine processes. */
interface Engine {
  pids: number[];
  stop(): Promise<void>;
}

/** Sustained rate and CPU per step (engine processes, their PostgreSQL backends). */
interface Throughput {
  stepsPerSecond: number;
  engineCpuUs: number;
  databaseCpuUs: number;
}

async function latencies(db: Database, template: TaskTemplate, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    const { taskUuid } = await createTask(db, { template, context: { even_number: 2 } });
    const task = await waitForTask(db, taskUuid);
    if (task.status !== 'complete') throw new Error(`task ${taskUuid} ended ${task.status}`);
    samples.push(performance.now() - started);
  }
  return samples;
}

/** Creates `count` tasks at once (10 creators in parallel) and returns their uuids. */
async function createMany(db: Database, template: TaskTemplate, count: number): Promise<string[]> {
  const created: string[] = [];
  for (let i = 0; i < count; i += 10) {
    const batch = Array.from({ length: Math.min(10, count - i) }, () =>
      createTask(db, { template, context: { even_number: 2 } }).then((task) => task.taskUuid),
    );
    created.push(...(await Promise.all(batch)));
  }
  return created;
}

/**
 * Sustained steps/s: the tasks wait, already created, for the engine processes, which are
 * started only then, so the figure is the engine's rate, not the creators'. CPU time is
 * counted from the moment the processes are running.
 */
async function throughput(
  db: Database,
  created: readonly string[],
  stepsPerTask: number,
  start: () => Promise<Engine>,
): Promise<Throughput> {
  const engine = await start();
  const started = performance.now();
  try {
    const engineBefore = await snapshotCpu(engine.pids);
    const databaseBefore = await snapshotCpu(await backendPids(db, ENGINE_APPLICATION_NAME));
    await waitForAllTasks(db, created);
    const elapsed = performance.now() - started;
    const steps = created.length * stepsPerTask;
    const engineMs = cpuUsedMs(engineBefore, await snapshotCpu(engine.pids));
    const databaseMs = cpuUsedMs(
      databaseBefore,
      await snapshotCpu(await backendPids(db, ENGINE_APPLICATION_NAME)),
    );
    return {
      stepsPerSecond: perSecond(steps, elapsed),
      engineCpuUs: (engineMs * 1000) / steps,
      databaseCpuUs: (databaseMs * 1000) / steps,
    };
  } finally {
    await engine.stop();
  }
}

/** Runs the workflow benchmark; true when every target held. */
export async function run(): Promise<boolean> {
  const templates = await loadTemplates([`${EXAMPLES}templates`]);
  const linear = templates.get('dag_examples', 'linear_workflow');
  const diamond = templates.get('dag_examples', 'diamond_workflow');
  return withBenchDatabase(20, async ({ db, url, server, serverVersion, pgmq }) => {
    const engineUrl = new URL(url);
    engineUrl.searchParams.set('application_name', ENGINE_APPLICATION_NAME);
    const startEngineProcesses = async (): Promise<Engine> => {
      const orchestrator = await startTasker(['orchestrator'], engineUrl.toString());
      const worker = await startTasker(
        ['worker', '--namespace', 'dag_examples', '--handlers', `${EXAMPLES}handlers.ts`],
        engineUrl.toString(),
      );
      return {
        pids: [orchestrator.child.pid, worker.child.pid].filter((pid) => pid !== undefined),
        async stop() {
          await worker.stop();
          await orchestrator.stop();
        },
      };
    };
    const latencyEngine = await startEngineProcesses();
    let linearSummary, diamondSummary;
    try {
      await latencies(db, linear, WARMUP_TASKS);
      linearSummary = summarize(await latencies(db, linear, LATENCY_TASKS));
      diamondSummary = summarize(await latencies(db, diamond, LATENCY_TASKS));
    } finally {
      await latencyEngine.stop();
    }
    {
      const created = await createMany(db, linear, THROUGHPUT_TASKS);
      const { stepsPerSecond, engineCpuUs, databaseCpuUs } = await throughput(
        db,
        created,
        linear.steps.length,
        startEngineProcesses,
      );
      const linearOk = linearSummary.p50 <= TARGETS.p50 && linearSummary.p99 <= TARGETS.p99;
      const throughputOk = stepsPerSecond >= TARGETS.stepsPerSecond;
      console.log(
        `\nWorkflow engine: 1 orchestrator + 1 worker process, PostgreSQL ${serverVersion} at ${server}, pgmq ${pgmq}`,
      );
      console.log(
        formatTable(
          [
            { header: 'measure' },
            { header: 'p50', align: 'right' },
            { header: 'p99', align: 'right' },
            { header: 'steps/s', align: 'right' },
            { header: 'target' },
            { header: 'ok' },
          ],
          [
            [
              `linear 4 steps, ${LATENCY_TASKS} tasks one at a time`,
              formatMs(linearSummary.p50),
              formatMs(linearSummary.p99),
              '',
              `p50 ≤ ${TARGETS.p50} ms, p99 ≤ ${TARGETS.p99} ms`,
              linearOk ? 'yes' : 'NO',
            ],
            [
              `diamond 4 steps, ${LATENCY_TASKS} tasks one at a time`,
              formatMs(diamondSummary.p50),
              formatMs(diamondSummary.p99),
              '',
              '',
              '',
            ],
            [
              `linear, ${THROUGHPUT_TASKS} tasks waiting when the engine starts`,
              '',
              '',
              formatCount(stepsPerSecond),
              `≥ ${formatCount(TARGETS.stepsPerSecond)} steps/s`,
              throughputOk ? 'yes' : 'NO',
            ],
          ],
        ),
      );
      const totalCpuUs = engineCpuUs + databaseCpuUs;
      console.log(
        `\nCPU per step over the sustained run: engine processes ${Math.round(engineCpuUs)} µs, their ` +
          `PostgreSQL backends ${Math.round(databaseCpuUs)} µs; ${Math.round(totalCpuUs)} µs in all caps ` +
          `${os.cpus().length} cores at ${formatCount((os.cpus().length * 1e6) / totalCpuUs)} steps/s.`,
      );
      return linearOk && throughputOk;
    }
  });
}
