import type { Command } from 'commander';
import { deadLetterQueue } from '../../engine/queues.js';
import { startEngine } from '../../engine/local-engine.js';
import { TaskerError } from '../../errors.js';
import {
  listDeadLetters,
  purgeDeadLetters,
  replayDeadLetters,
  type DeadLetter,
  type DeadLetterFilter,
} from '../../events/domain/dead-letters.js';
import {
  listDurableSubscriptions,
  removeDurableSubscription,
} from '../../events/domain/durable-subscriptions.js';
import { tailEvents } from '../../events/domain/event-tail.js';
import { validatePattern } from '../../events/domain/patterns.js';
import { PgmqClient } from '../../messaging/pgmq-client.js';
import { loadHandlerModule } from '../../worker/handler-module.js';
import { openCliTelemetry } from '../cli-telemetry.js';
import { openRuntime, serveUntilSignal, untilSignal, type Runtime } from '../runtime.js';

interface SelectionOptions {
  namespace: string;
  pattern?: string;
  all?: boolean;
}

/** Turns `ID…`, `--pattern` or `--all` into a filter; exactly one of them must be given. */
function selection(ids: readonly string[], options: SelectionOptions, verb: string): DeadLetterFilter {
  const given = [ids.length > 0, options.pattern !== undefined, options.all === true].filter(Boolean).length;
  if (given !== 1)
    throw new TaskerError('USAGE', `events dlq ${verb}: give message ids, --pattern PATTERN or --all`);
  if (options.pattern !== undefined) {
    validatePattern(options.pattern, '--pattern');
    return { pattern: options.pattern };
  }
  if (options.all) return { all: true };
  return {
    ids: ids.map((id) => {
      if (!/^\d+$/.test(id))
        throw new TaskerError('USAGE', `not a dead letter msg_id: ${JSON.stringify(id)}`);
      return Number(id);
    }),
  };
}

async function withRuntime<T>(fn: (runtime: Runtime) => Promise<T>): Promise<T> {
  const runtime = await openRuntime();
  try {
    return await fn(runtime);
  } finally {
    await runtime.close();
  }
}

function printLetters(letters: readonly DeadLetter[], json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(letters, null, 2)}\n`);
    return;
  }
  if (letters.length === 0) process.stdout.write('no dead letters\n');
  for (const letter of letters) {
    process.stdout.write(
      `${letter.msg_id}  ${letter.dead_at}  ${letter.event.name}  ${letter.event.id}  subscriber=${letter.subscriber}  attempts=${letter.attempts}  ${letter.last_error}\n`,
    );
  }
}

/** `tasker events consume|tail|dlq …`. */
export function registerEvents(program: Command): void {
  const events = program.command('events').description('consume, watch and repair domain event delivery');

  events
    .command('consume')
    .description("deliver the namespaces' durable and acknowledged events to a module's subscribers")
    .requiredOption('--handlers <module>', 'module exporting `subscribers`')
    .requiredOption('--namespace <ns...>', 'namespaces whose events to consume')
    .action(async (options: { handlers: string; namespace: string[] }) => {
      const module = await loadHandlerModule(options.handlers, { requireHandlers: false });
      await withRuntime(async (runtime) => {
        // Delivery metrics (tasker.domain_events.*) are exported like a worker's.
        const telemetry = await openCliTelemetry(runtime, 'worker');
        try {
          const engine = await startEngine({
            db: runtime.db,
            config: runtime.config,
            events: { namespaces: options.namespace, module },
          });
          await serveUntilSignal(
            'event consumer',
            () => engine.stop(),
            runtime.config.worker.shutdown_timeout_ms,
          );
        } finally {
          await telemetry.close();
        }
      });
    });

  events
    .command('tail')
    .description('print durable and acknowledged events as they are published')
    .argument('[pattern]', 'only events matching this pattern', '#')
    .requiredOption('--namespace <ns...>', 'namespaces to watch')
    .option('--from-start', 'print the events already persisted first')
    .option('--json', 'one JSON envelope per line')
    .action(
      async (pattern: string, options: { namespace: string[]; fromStart?: boolean; json?: boolean }) => {
        validatePattern(pattern, 'events tail');
        await withRuntime(async ({ db }) => {
          const stop = new AbortController();
          void untilSignal().then(() => stop.abort());
          await tailEvents(
            db,
            {
              namespaces: options.namespace,
              pattern,
              fromStart: options.fromStart === true,
              signal: stop.signal,
            },
            (event) => {
              process.stdout.write(
                options.json
                  ? `${JSON.stringify(event)}\n`
                  : `${event.metadata.fired_at}  ${event.metadata.namespace}  ${event.name}  ${event.id}  ${JSON.stringify(event.payload)}\n`,
              );
            },
          );
        });
      },
    );

  const subscriptions = events.command('subscriptions').description("a namespace's durable subscriptions");

  subscriptions
    .command('list')
    .description('list durable subscriptions with the copies waiting in their queues')
    .requiredOption('--namespace <ns>', 'namespace')
    .option('--json', 'print JSON')
    .action(async (options: { namespace: string; json?: boolean }) => {
      const found = await withRuntime(({ db }) => listDurableSubscriptions(db, options.namespace));
      if (options.json) {
        process.stdout.write(`${JSON.stringify(found, null, 2)}\n`);
        return;
      }
      if (found.length === 0) process.stdout.write('no durable subscriptions\n');
      for (const s of found) {
        process.stdout.write(
          `${s.subscriber_id}  ${s.pattern}  queue=${s.queue_name}  waiting=${s.queue_length}  last_seen=${s.last_seen_at.toISOString()}\n`,
        );
      }
    });

  subscriptions
    .command('remove')
    .description('retire a durable subscription: stop copying events to it and drop its queue')
    .argument('<subscriber-id>')
    .requiredOption('--namespace <ns>', 'namespace')
    .action(async (subscriberId: string, options: { namespace: string }) => {
      const queueName = await withRuntime(({ db }) =>
        removeDurableSubscription(db, options.namespace, subscriberId),
      );
      process.stdout.write(`removed ${subscriberId} from ${options.namespace} (dropped ${queueName})\n`);
    });

  const dlq = events.command('dlq').description("inspect and repair a namespace's dead-letter queue");

  dlq
    .command('list')
    .description('list dead letters')
    .requiredOption('--namespace <ns>', 'namespace')
    .option('--pattern <pattern>', 'only events whose name matches')
    .option('--json', 'print [{msg_id, event, subscriber, attempts, last_error, dead_at}]')
    .action(async (options: { namespace: string; pattern?: string; json?: boolean }) => {
      if (options.pattern !== undefined) validatePattern(options.pattern, '--pattern');
      const filter: DeadLetterFilter =
        options.pattern !== undefined ? { pattern: options.pattern } : { all: true };
      const letters = await withRuntime(({ db }) => listDeadLetters(db, options.namespace, filter));
      printLetters(letters, options.json === true);
    });

  dlq
    .command('show')
    .description('print one dead letter in full')
    .argument('<msg-id>')
    .requiredOption('--namespace <ns>', 'namespace')
    .action(async (id: string, options: { namespace: string }) => {
      const filter = selection([id], options, 'show');
      const letters = await withRuntime(({ db }) => listDeadLetters(db, options.namespace, filter));
      process.stdout.write(`${JSON.stringify(letters[0], null, 2)}\n`);
    });

  for (const [verb, description] of [
    ['replay', "put dead letters back on their subscriber's queue with attempts reset"],
    ['purge', 'delete dead letters for good'],
  ] as const) {
    dlq
      .command(verb)
      .description(description)
      .argument('[msg-ids...]')
      .requiredOption('--namespace <ns>', 'namespace')
      .option('--pattern <pattern>', 'every dead letter whose event name matches')
      .option('--all', 'every dead letter of the namespace')
      .action(async (ids: string[], options: SelectionOptions) => {
        const filter = selection(ids, options, verb);
        const count = await withRuntime(async ({ db }) => {
          const queue = new PgmqClient(db);
          return verb === 'replay'
            ? (await replayDeadLetters(db, queue, options.namespace, filter)).length
            : purgeDeadLetters(db, queue, options.namespace, filter);
        });
        process.stdout.write(
          `${verb === 'replay' ? 'replayed' : 'purged'} ${count} from ${deadLetterQueue(options.namespace)}\n`,
        );
      });
  }
}
