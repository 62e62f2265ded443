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

const EX = fileURLToPath(new URL('./examples/dags/', import.meta.url));
const config = configSchema.parse({});
const templates = await loadTemplates([`${EX}templates`]);
const linear = templates.get('dag_examples', 'linear_workflow');
const module = await loadHandlerModule(`${EX}handlers.ts`);
const server = createServer((q, r) => { q.resume(); q.on('end', () => r.writeHead(200).end('{}')); });
await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
const endpoint = `http://127.0.0.1:${(server.address() as any).port}`;
const N = Number(process.env.N ?? 400);
await withBenchDatabase(10, async ({ db }) => {
  const variants = (process.env.V ?? 'off,full,steps,orch,noexport').split(',');
  for (const rep of [1, 2]) for (const v of variants) {
    let sdk, tel;
    if (v !== 'off') {
      sdk = await startTelemetrySdk({ ...config.telemetry, enabled: true, otlp_endpoint: v === 'noexport' ? undefined : endpoint }, 'run', {});
      tel = createSystemTelemetry({ db, tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider, gauges: true });
    }
    const engine = await startEngine({ db, config, orchestrator: true, worker: { namespaces: ['dag_examples'], module },
      ...(v === 'full' || v === 'noexport' ? { telemetry: tel } : {}),
      ...(v === 'steps' ? { stepObserver: tel!.stepObserver } : {}),
      ...(v === 'orch' ? { orchestrationObserver: tel!.orchestrationObserver } : {}),
    });
    const t0 = performance.now();
    const ids = await Promise.all(Array.from({ length: N }, async () => (await createTask(db, { template: linear, context: { even_number: 2 } })).taskUuid));
    for (const id of ids) await waitForTask(db, id, { timeoutMs: 600000 });
    const ms = performance.now() - t0;
    await engine.stop(); await tel?.close(); await sdk?.shutdown();
    trace.disable(); metrics.disable(); context.disable(); propagation.disable();
    console.log(rep, v.padEnd(9), Math.round(N * 4 * 1000 / ms), 'steps/s');
  }
});
server.close();
