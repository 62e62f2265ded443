import type { Command } from 'commander';
import type { Database } from '../../db/database.js';
import { createTask } from '../../api/tasks.js';
import { waitForTask } from '../../api/task-finished.js';
import { startEngine } from '../../engine/local-engine.js';
import { loadTemplates } from '../../templates/load.js';
import { assertHandlersExist, loadHandlerModule } from '../../worker/handler-module.js';
import { openCliTelemetry } from '../cli-telemetry.js';
import { openRuntime, parseJsonOption, parseTaskRef, serveUntilSignal } from '../runtime.js';
import { printTask } from '../task-output.js';

/** Handler callables of the templates already registered for these namespaces. */
async function registeredCallables(db: Database, namespaces: readonly string[]): Promise<string[]> {
  const { rows } = await db.query<{ definition: { steps?: Array<{ handler?: { callable?: string } }> } }>(
    'SELECT definition FROM tasker.named_templates WHERE namespace = ANY($1)',
    [namespaces],
  );
  return rows.flatMap((row) => (row.definition.steps ?? []).flatMap((step) => step.handler?.callable ?? []));
}

/** `tasker orchestrator`, `tasker worker`, `tasker run`. */
export function registerEngine(program: Command): void {
  program
    .command('orchestrator')
    .description('run an orchestrator: start tasks, process step results, enqueue retries')
    .action(async () => {
      const runtime = await openRuntime();
      try {
        const telemetry = await openCliTelemetry(runtime, 'orchestrator', { gauges: true });
        try {
          const engine = await startEngine({
            db: runtime.db,
            config: runtime.config,
            orchestrator: true,
            ...(telemetry.system ? { telemetry: telemetry.system } : {}),
          });
          await serveUntilSignal(
            'orchestrator',
            () => engine.stop(),
            runtime.config.worker.shutdown_timeout_ms,
          );
        } finally {
          await telemetry.close();
        }
      } finally {
        await runtime.close();
      }
    });

  program
    .command('worker')
    .description("run a worker for the namespaces' step queues with the handlers of a module")
    .requiredOption('--namespace <ns...>', 'namespaces whose steps this worker runs')
    .requiredOption('--handlers <module>', 'handler module (.js, .mjs or .ts) exporting `handlers`')
    .option('--templates <paths...>', 'also check these templates for handlers the module lacks')
    .action(async (options: { namespace: string[]; handlers: string; templates?: string[] }) => {
      const module = await loadHandlerModule(options.handlers);
      const runtime = await openRuntime();
      try {
        const callables = await registeredCallables(runtime.db, options.namespace);
        if (options.templates) {
          const templates = await loadTemplates(options.templates);
          for (const template of templates.all()) {
            if (!options.namespace.includes(template.namespace)) continue;
            callables.push(...template.steps.map((step) => step.handler.callable));
          }
        }
        assertHandlersExist(module, callables);
        const telemetry = await openCliTelemetry(runtime, 'worker');
        try {
          const engine = await startEngine({
            db: runtime.db,
            config: runtime.config,
            worker: { namespaces: options.namespace, module },
            ...(telemetry.system ? { telemetry: telemetry.system } : {}),
          });
          await serveUntilSignal('worker', () => engine.stop(), runtime.config.worker.shutdown_timeout_ms);
        } finally {
          await telemetry.close();
        }
      } finally {
        await runtime.close();
      }
    });

  program
    .command('run')
    .description('run one task to completion in this process (orchestrator and worker together)')
    .argument('<templates...>', 'template files or directories')
    .requiredOption(
      '--handlers <module>',
      'handler module exporting `handlers` (and optionally `subscribers`)',
    )
    .requiredOption('--task <ref>', 'NAMESPACE/NAME[@VERSION] of the template to run')
    .option('--context <json>', 'the task context as JSON', '{}')
    .option('--correlation-id <id>', 'correlation id carried by the task and its events')
    .option('--json', 'print the final task as JSON')
    .action(
      async (
        paths: string[],
        options: { handlers: string; task: string; context: string; correlationId?: string; json?: boolean },
      ) => {
        const ref = parseTaskRef(options.task);
        const context = parseJsonOption('--context', options.context);
        const module = await loadHandlerModule(options.handlers);
        const runtime = await openRuntime({ autoMigrate: true, inMemoryOk: true });
        try {
          const templates = await loadTemplates(paths, {
            defaultDelivery: runtime.config.events.default_delivery,
          });
          const template = templates.get(ref.namespace, ref.name, ref.version);
          assertHandlersExist(
            module,
            template.steps.map((step) => step.handler.callable),
          );
          const telemetry = await openCliTelemetry(runtime, 'run', { gauges: true });
          try {
            const engine = await startEngine({
              db: runtime.db,
              config: runtime.config,
              orchestrator: true,
              worker: { namespaces: [template.namespace], module },
              ...(telemetry.system ? { telemetry: telemetry.system } : {}),
            });
            try {
              const { taskUuid } = await createTask(runtime.db, {
                template,
                context,
                ...(options.correlationId ? { correlationId: options.correlationId } : {}),
              });
              const task = await waitForTask(runtime.db, taskUuid);
              printTask(task, options.json === true);
              if (task.status !== 'complete') process.exitCode = 1;
            } finally {
              await engine.stop();
            }
          } finally {
            await telemetry.close();
          }
        } finally {
          await runtime.close();
        }
      },
    );
}
