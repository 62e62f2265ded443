import type { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../config/load.js';
import { connect } from '../../db/connect.js';
import { createTask } from '../../api/tasks.js';
import { waitForTask } from '../../api/task-finished.js';
import { startEngine } from '../../engine/local-engine.js';
import type { TaskView } from '../../persistence/task-store.js';
import { loadTemplates } from '../../templates/load.js';
import { loadHandlerModule } from '../../worker/handler-module.js';

const EXAMPLE_ROOT = fileURLToPath(new URL('../../../examples/payments/', import.meta.url));

/** Three payments that show the happy path, a retried step and a declined card. */
const PAYMENTS = [
  {
    payment_id: 'pay_1001',
    customer_id: 'cus_ada',
    amount: 99.99,
    currency: 'USD',
    card_token: 'tok_visa_4242',
  },
  {
    payment_id: 'pay_1002',
    customer_id: 'cus_grace',
    amount: 25,
    currency: 'EUR',
    card_token: 'tok_flaky_5555',
  },
  {
    payment_id: 'pay_1003',
    customer_id: 'cus_linus',
    amount: 310.5,
    currency: 'USD',
    card_token: 'tok_declined_0002',
  },
];

interface Delivery {
  subscriber: string;
  event: string;
  delivery: string;
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

function summarise(tasks: readonly TaskView[], deliveries: readonly Delivery[]): void {
  print('\nSummary');
  for (const task of tasks) {
    const steps = task.steps.map(
      (step) => `${step.name} ${step.state} (${step.attempts} attempt${step.attempts === 1 ? '' : 's'})`,
    );
    print(`  ${task.task_uuid}  ${task.status.padEnd(8)}  ${steps.join(', ')}`);
  }
  const counts = new Map<string, number>();
  for (const delivery of deliveries) {
    const key = `${delivery.subscriber} ← ${delivery.event} [${delivery.delivery}]`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  print(`  ${deliveries.length} domain event deliveries:`);
  for (const [key, count] of counts) print(`    ${count} × ${key}`);
}

/** `tasker demo`: the payments example end to end on the embedded database. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the payments example end to end on the embedded database')
    .action(async () => {
      const started = Date.now();
      print('Tasker demo: payments/process_payment on embedded PostgreSQL (PGlite)');
      const config = await loadConfig();
      const db = await connect({});
      try {
        const templates = await loadTemplates([`${EXAMPLE_ROOT}templates`], {
          defaultDelivery: config.events.default_delivery,
        });
        const template = templates.get('payments', 'process_payment');
        const module = await loadHandlerModule(`${EXAMPLE_ROOT}handlers.ts`);
        const deliveries = module.exports.delivered as Delivery[];
        const names = new Map<string, string>();
        const engine = await startEngine({
          db,
          config,
          orchestrator: true,
          worker: { namespaces: ['payments'], module },
          orchestrationObserver: {
            stepResultProcessed: (taskUuid, outcome) => {
              const payment = names.get(taskUuid) ?? taskUuid;
              const detail =
                outcome.stepState === 'waiting_for_retry'
                  ? `failed, retrying in ${outcome.retryInMs}ms`
                  : outcome.stepState;
              print(`  ${payment}  ${outcome.stepName.padEnd(15)} ${detail} (attempt ${outcome.attempt})`);
            },
          },
        });
        try {
          const tasks: TaskView[] = [];
          for (const payment of PAYMENTS) {
            const { taskUuid } = await createTask(db, {
              template,
              context: payment,
              correlationId: payment.payment_id,
            });
            names.set(taskUuid, payment.payment_id);
            print(`\n${payment.payment_id}: ${payment.amount} ${payment.currency} on ${payment.card_token}`);
            const task = await waitForTask(db, taskUuid);
            // In-process subscribers run after the step's commit; let them finish first.
            await engine.events?.dispatcher.idle();
            print(`  ${payment.payment_id}  task ${task.status}`);
            tasks.push(task);
          }
          // Durable deliveries travel through PGMQ; give the last of them a moment to land.
          const declined = PAYMENTS.filter((payment) => payment.card_token.startsWith('tok_declined')).length;
          await until(
            () => deliveries.filter((d) => d.delivery !== 'fire_and_forget').length >= declined,
            5000,
          );
          await engine.events?.dispatcher.idle();
          summarise(tasks, deliveries);
        } finally {
          await engine.stop();
        }
      } finally {
        await db.close();
      }
      print(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)}s.`);
    });
}
