import pg from 'pg';
let t0 = 0; let tracing = false;
const log: string[] = [];
for (const proto of [pg.Client.prototype, pg.Pool.prototype] as any[]) {
  const orig = proto.query;
  proto.query = function (this: any, ...args: any[]) {
    const text = typeof args[0] === 'string' ? args[0] : args[0]?.text ?? '?';
    const key = text.replace(/\s+/g, ' ').slice(0, 60);
    const s = performance.now();
    const r = orig.apply(this, args);
    if (tracing && r && typeof r.then === 'function') r.then(() => log.push(`${(s - t0).toFixed(2).padStart(7)} +${(performance.now() - s).toFixed(2).padStart(5)} ${key}`), () => {});
    return r;
  };
}
const { createServerDatabase, dropServerDatabase } = await import('/work/main/test/helpers/databases.js');
const { openPgDatabase } = await import('/work/main/src/db/pg-database.js');
const { migrate } = await import('/work/main/src/db/migrate.js');
const { loadConfig } = await import('/work/main/src/config/load.js');
const { startEngine } = await import('/work/main/src/engine/local-engine.js');
const { loadTemplates } = await import('/work/main/src/templates/load.js');
const { loadHandlerModule } = await import('/work/main/src/worker/handler-module.js');
const { createTask } = await import('/work/main/src/api/tasks.js');
const { waitForTask } = await import('/work/main/src/api/task-finished.js');
const { name, url } = await createServerDatabase();
const db = await openPgDatabase({ connectionString: url, poolSize: 20 });
await migrate(db, { pgmq: 'auto' });
const config = await loadConfig();
const module = await loadHandlerModule('/work/main/examples/dags/handlers.ts');
const t = (await loadTemplates(['/work/main/examples/dags/templates'])).get('dag_examples', 'linear_workflow');
const engine = await startEngine({ db, config, orchestrator: true, worker: { namespaces: ['dag_examples'], module } });
const lat: number[] = [];
for (let i = 0; i < 60; i++) { const s = performance.now(); const { taskUuid } = await createTask(db, { template: t, context: { even_number: 2 } }); await waitForTask(db, taskUuid); lat.push(performance.now() - s); }
lat.sort((a, b) => a - b); console.log('p50', lat[30]!.toFixed(1), 'min', lat[0]!.toFixed(1));
t0 = performance.now(); tracing = true;
const { taskUuid } = await createTask(db, { template: t, context: { even_number: 2 } });
await waitForTask(db, taskUuid);
console.log('total', (performance.now() - t0).toFixed(2));
tracing = false;
await new Promise((r) => setTimeout(r, 50));
console.log(log.sort((a, b) => parseFloat(a) - parseFloat(b)).join('\n'));
await engine.stop(); await db.close(); await dropServerDatabase(name);
