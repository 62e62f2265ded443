/**
 * `npm run bench -- workflow`: end-to-end latency of the 4-step linear and the diamond
 * workflow at low load (one task at a time), and sustained steps per second, with one
 * orchestrator and one worker process on the local server.
 */
import { fileURLToPath } from 'node:url';
import { createTask } from '../src/api/tasks.js';
import { waitForTask } from '../src/api/task-finished.js';
import type { Database } from '../src/db/database.js';
import { loadTemplates } from '../src/templates/load.js';
import type { TaskTemplate } from '../src/templates/types.js';
import { withBenchDatabase } from './bench-database.js';
import { startTasker } from './engine-processes.js';
import { formatCount, formatMs, formatTable, perSecond, summarize } from './stats.js';

const EXAMPLES = fileURLToPath(new URL('../examples/dags/', import.meta.url));
const LATENCY_TASKS = 200;
const WARMUP_TASKS = 20;
const THROUGHPUT_TASKS = 1000;
const TARGETS = { p50: 20, p99: 60, stepsPerSecond: 2000 };

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
 * started only then, so the figure is the engine's rate, not the creators'.
 */
async function throughput(
  db: Database,
  created: readonly string[],
  stepsPerTask: number,
  start: () => Promise<() => Promise<void>>,
): Promise<number> {
  const stop = await start();
  const started = performance.now();
  try {
    for (const taskUuid of created) {
      const task = await waitForTask(db, taskUuid, { timeoutMs: 600_000 });
      if (task.status !== 'complete') throw new Error(`task ${taskUuid} ended ${task.status}`);
    }
    return perSecond(created.length * stepsPerTask, performance.now() - started);
  } finally {
    await stop();
  }
}

/** Runs the workflow benchmark; true when every target held. */
export async function run(): Promise<boolean> {
  const templates = await loadTemplates([`${EXAMPLES}templates`]);
  const linear = templates.get('dag_examples', 'linear_workflow');
  const diamond = templates.get('dag_examples', 'diamond_workflow');
  return withBenchDatabase(20, async ({ db, url, server, serverVersion, pgmq }) => {
    const startEngineProcesses = async (): Promise<() => Promise<void>> => {
      const orchestrator = await startTasker(['orchestrator'], url);
      const worker = await startTasker(
        ['worker', '--namespace', 'dag_examples', '--handlers', `${EXAMPLES}handlers.ts`],
        url,
      );
      return async () => {
        await worker.stop();
        await orchestrator.stop();
      };
    };
    const stopLatencyEngine = await startEngineProcesses();
    let linearSummary, diamondSummary;
    try {
      await latencies(db, linear, WARMUP_TASKS);
      linearSummary = summarize(await latencies(db, linear, LATENCY_TASKS));
      diamondSummary = summarize(await latencies(db, diamond, LATENCY_TASKS));
    } finally {
      await stopLatencyEngine();
    }
    {
      const created = await createMany(db, linear, THROUGHPUT_TASKS);
      const stepsPerSecond = await throughput(db, created, linear.steps.length, startEngineProcesses);
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
      return linearOk && throughputOk;
    }
  });
}
