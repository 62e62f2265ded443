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

async function throughput(db: Database, template: TaskTemplate, count: number): Promise<number> {
  const started = performance.now();
  const created: string[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = Array.from({ length: Math.min(50, count - i) }, () =>
      createTask(db, { template, context: { even_number: 2 } }).then((task) => task.taskUuid),
    );
    created.push(...(await Promise.all(batch)));
  }
  for (const taskUuid of created) {
    const task = await waitForTask(db, taskUuid, { timeoutMs: 600_000 });
    if (task.status !== 'complete') throw new Error(`task ${taskUuid} ended ${task.status}`);
  }
  return perSecond(count * template.steps.length, performance.now() - started);
}

/** Runs the workflow benchmark; true when every target held. */
export async function run(): Promise<boolean> {
  const templates = await loadTemplates([`${EXAMPLES}templates`]);
  const linear = templates.get('dag_examples', 'linear_workflow');
  const diamond = templates.get('dag_examples', 'diamond_workflow');
  return withBenchDatabase(20, async ({ db, url, server, serverVersion, pgmq }) => {
    const orchestrator = await startTasker(['orchestrator'], url);
    const worker = await startTasker(
      ['worker', '--namespace', 'dag_examples', '--handlers', `${EXAMPLES}handlers.ts`],
      url,
    );
    try {
      await latencies(db, linear, WARMUP_TASKS);
      const linearSummary = summarize(await latencies(db, linear, LATENCY_TASKS));
      const diamondSummary = summarize(await latencies(db, diamond, LATENCY_TASKS));
      const stepsPerSecond = await throughput(db, linear, THROUGHPUT_TASKS);
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
              `linear, ${THROUGHPUT_TASKS} tasks at once`,
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
    } finally {
      await worker.stop();
      await orchestrator.stop();
    }
  });
}
