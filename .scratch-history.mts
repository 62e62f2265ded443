import { fileURLToPath } from 'node:url';
import { waitForTask } from './src/api/task-finished.js';
import { createTask } from './src/api/tasks.js';
import { configSchema } from './src/config/schema.js';
import { startEngine } from './src/engine/local-engine.js';
import { loadTaskHistory } from './src/telemetry/task-history.js';
import { taskSpanEvents } from './src/telemetry/task-span-events.js';
import { loadTemplates } from './src/templates/load.js';
import { loadHandlerModule } from './src/worker/handler-module.js';
import { withBenchDatabase } from './bench/bench-database.js';
const EX = fileURLToPath(new URL('./examples/dags/', import.meta.url));
const config = configSchema.parse({});
const linear = (await loadTemplates([`${EX}templates`])).get('dag_examples', 'linear_workflow');
const module = await loadHandlerModule(`${EX}handlers.ts`);
await withBenchDatabase(10, async ({ db }) => {
  const engine = await startEngine({ db, config, orchestrator: true, worker: { namespaces: ['dag_examples'], module } });
  const ids = await Promise.all(Array.from({ length: 300 }, async () => (await createTask(db, { template: linear, context: { even_number: 2 } })).taskUuid));
  for (const id of ids) await waitForTask(db, id);
  await engine.stop();
  for (let r = 0; r < 2; r++) {
    let t0 = performance.now();
    for (const id of ids) await loadTaskHistory(db, id);
    console.log('history query', ((performance.now() - t0) / ids.length).toFixed(3), 'ms each');
    t0 = performance.now();
    for (const id of ids) await db.query('SELECT status FROM tasker.tasks WHERE task_uuid = $1', [id]);
    console.log('trivial query', ((performance.now() - t0) / ids.length).toFixed(3), 'ms each');
    const h = (await loadTaskHistory(db, ids[0]!))!;
    t0 = performance.now();
    for (let i = 0; i < 1000; i++) taskSpanEvents(h);
    console.log('taskSpanEvents', ((performance.now() - t0) / 1000).toFixed(3), 'ms,', taskSpanEvents(h).length, 'events');
  }
  const { HISTORY_SQL_FOR_TEST } = await import('./src/telemetry/task-history.js') as any;
  const plan = await db.query(`EXPLAIN (ANALYZE) ${HISTORY_SQL_FOR_TEST}`.replace('$1', `'${ids[5]}'`));
  console.log(plan.rows.map((r: any) => r['QUERY PLAN']).join('\n'));
});
