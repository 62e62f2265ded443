import type { Command } from 'commander';
import { cancelTask, resolveStep } from '../../api/manual-actions.js';
import { waitForTask } from '../../api/task-finished.js';
import { createTask, getTask } from '../../api/tasks.js';
import { loadTemplates } from '../../templates/load.js';
import type { SystemTelemetry } from '../../telemetry/system-telemetry.js';
import { openCliTelemetry } from '../cli-telemetry.js';
import { openRuntime, parseJsonOption, parseTaskRef, type Runtime } from '../runtime.js';
import { printTask } from '../task-output.js';

/** Runs `fn` on an open runtime; with `telemetry`, also with the OpenTelemetry SDK when enabled. */
async function withRuntime(
  fn: (runtime: Runtime, telemetry: SystemTelemetry | undefined) => Promise<void>,
  options: { telemetry?: boolean } = {},
): Promise<void> {
  const runtime = await openRuntime();
  try {
    const telemetry = options.telemetry ? await openCliTelemetry(runtime, 'cli') : undefined;
    try {
      await fn(runtime, telemetry?.system);
    } finally {
      await telemetry?.close();
    }
  } finally {
    await runtime.close();
  }
}

/** `tasker task create|show|cancel` and `tasker step resolve`. */
export function registerTasks(program: Command): void {
  const task = program.command('task').description('create, inspect and cancel tasks');

  task
    .command('create')
    .description('create a task from a template; orchestrators and workers run it')
    .argument('<templates...>', 'template files or directories')
    .requiredOption('--task <ref>', 'NAMESPACE/NAME[@VERSION] of the template')
    .option('--context <json>', 'the task context as JSON', '{}')
    .option('--correlation-id <id>', 'correlation id carried by the task and its events')
    .option('--idempotency-key <key>', 'a second create with this key returns the first task')
    .option('--wait', 'wait until the task finishes and print it; exit 1 unless it completed')
    .option('--json', 'print JSON')
    .action(
      async (
        paths: string[],
        options: {
          task: string;
          context: string;
          correlationId?: string;
          idempotencyKey?: string;
          wait?: boolean;
          json?: boolean;
        },
      ) => {
        const ref = parseTaskRef(options.task);
        const context = parseJsonOption('--context', options.context);
        await withRuntime(
          async ({ db, config }) => {
            const templates = await loadTemplates(paths, { defaultDelivery: config.events.default_delivery });
            const template = templates.get(ref.namespace, ref.name, ref.version);
            const created = await createTask(db, {
              template,
              context,
              ...(options.correlationId ? { correlationId: options.correlationId } : {}),
              ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
            });
            if (options.wait) {
              const finished = await waitForTask(db, created.taskUuid);
              printTask(finished, options.json === true);
              if (finished.status !== 'complete') process.exitCode = 1;
            } else if (options.json) {
              process.stdout.write(
                `${JSON.stringify({ task_uuid: created.taskUuid, created: created.created })}\n`,
              );
            } else {
              process.stdout.write(
                `${created.taskUuid}${created.created ? '' : ' (existing, same idempotency key)'}\n`,
              );
            }
            // With telemetry on, the SDK exports tasker.tasks.requests.total when the command ends.
          },
          { telemetry: true },
        );
      },
    );

  task
    .command('show')
    .description('print a task and its steps')
    .argument('<task-uuid>')
    .option('--json', 'print JSON')
    .action(async (taskUuid: string, options: { json?: boolean }) => {
      await withRuntime(async ({ db }) => printTask(await getTask(db, taskUuid), options.json === true));
    });

  task
    .command('cancel')
    .description('cancel a task and its unfinished steps')
    .argument('<task-uuid>')
    .option('--reason <text>', 'recorded with the transition')
    .action(async (taskUuid: string, options: { reason?: string }) => {
      await withRuntime(
        async ({ db }, telemetry) => {
          await cancelTask(db, taskUuid, options.reason ? { reason: options.reason } : {});
          // This process finished the task, so it records the task's span (by the time the
          // telemetry closes, which does not wait for the collection window).
          void telemetry?.recordFinishedTask(taskUuid);
          process.stdout.write(`cancelled ${taskUuid}\n`);
        },
        { telemetry: true },
      );
    });

  const step = program.command('step').description('act on one step of a task');
  step
    .command('resolve')
    .description('mark a step resolved by hand so the task can go on')
    .argument('<task-uuid>')
    .argument('<step-name>')
    .option('--result <json>', 'the result dependent steps receive', 'null')
    .option('--reason <text>', 'recorded with the transition')
    .action(async (taskUuid: string, stepName: string, options: { result: string; reason?: string }) => {
      const result = parseJsonOption('--result', options.result);
      await withRuntime(
        async ({ db }, telemetry) => {
          await resolveStep(db, taskUuid, stepName, result, options.reason ? { reason: options.reason } : {});
          // When that finished the task, this process records its span (a no-op otherwise), by
          // the time the telemetry closes.
          void telemetry?.recordFinishedTask(taskUuid);
          process.stdout.write(`resolved ${stepName} of ${taskUuid}\n`);
        },
        { telemetry: true },
      );
    });
}
