import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { waitForTask } from './src/api/task-finished.js';
import { createTask } from './src/api/tasks.js';
import { startTelemetrySdk } from './src/cli/telemetry-sdk.js';
import { configSchema } from './src/config/schema.js';
import { startEngine } from './src/engine/local-engine.js';
import { createSystemTelemetry } from './src/telemetry/system-telemetry.js';
import { loadTemplates } from './src/templates/load.js';
import { loadHandlerModule } from './src/worker/handler-module.js';
import { withBenchDatabase } from './bench/bench-database.js';
import { summarize } from './bench/stats.js';

const EX = fileURLToPath(new URL('./examples/dags/', import.meta.url));
const config = configSchema.parse({});
const linear = (await loadTemplates([`${EX}templates`])).get('dag_examples', 'linear_workflow');
const module = await loadHandlerModule(`${EX}handlers.ts`);
const server = createServer((q, r) => { q.resume(); q.on('end', () => r.writeHead(200).end('{}')); });
await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
const endpoint = `http://127.0.0.1:${(server.address() as any).port}`;
await withBenchDatabase(10, async ({ db }) => {
  for (const v of (process.env.V ?? 'off,full,off,full').split(',')) {
    let sdk, tel;
    if (v !== 'off') {
      sdk = await startTelemetrySdk({ ...config.telemetry, enabled: true, otlp_endpoint: v === 'noexport' ? undefined : endpoint }, 'run', {});
      tel = createSystemTelemetry({ db, tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider, gauges: v !== 'nogauge' });
    }
    const engine = await startEngine({ db, config, orchestrator: true, worker: { namespaces: ['dag_examples'], module }, ...(tel ? { telemetry: tel } : {}) });
    const ms: number[] = []; const cpu = process.cpuUsage();
    for (let i = 0; i < 100; i++) { const t0 = performance.now(); const { taskUuid } = await createTask(db, { template: linear, context: { even_number: 2 } }); await waitForTask(db, taskUuid); ms.push(performance.now() - t0); }
    const u = process.cpuUsage(cpu);
    await engine.stop(); await tel?.close(); await sdk?.shutdown();
    trace.disable(); metrics.disable(); context.disable(); propagation.disable();
    const s = summarize(ms.slice(10));
    console.log(v.padEnd(9), 'p50', s.p50.toFixed(1), 'p99', s.p99.toFixed(1), 'cpu/task', Math.round((u.user + u.system) / 100), 'us');
  }
});
server.close();
