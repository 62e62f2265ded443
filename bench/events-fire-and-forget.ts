/**
 * Fire-and-forget benchmark (`npm run bench -- events`): how many domain events per second the
 * in-process path (FireAndForgetDispatcher → bounded broadcast → one subscriber) delivers, next
 * to Node's EventEmitter in the same run. The emitter calls its listener synchronously on the
 * publisher's stack with no bound, so it is the ceiling, not a peer: our path queues, drains in
 * a later macrotask, bounds memory and isolates failures. Target: ≥ 2 million events/s.
 */
import { EventEmitter } from 'node:events';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { createBroadcast, type OverflowStrategy } from '../src/events/domain/broadcast.js';
import { createDomainEvent, type DomainEvent } from '../src/events/domain/envelope.js';
import { FireAndForgetDispatcher } from '../src/events/domain/fire-and-forget.js';
import {
  createDomainEventMetrics,
  DEFAULT_DOMAIN_EVENT_METRICS_CONFIG,
  NOOP_DOMAIN_EVENT_METRICS,
  type DomainEventMetrics,
} from '../src/events/domain/metrics.js';
import { EventRegistry } from '../src/events/domain/registry.js';
import { formatCount, formatTable, perSecond } from './stats.js';

const TARGET_PER_SECOND = 2_000_000;
const EVENTS = 2_000_000; // per measured round
const ROUNDS = 3; // the median round is reported
const WARM_UP = 300_000;
const BUFFER_SIZE = 1000; // events.fire_and_forget.buffer_size default

interface Row {
  path: string;
  rate: number;
  /** Only our dispatcher rows are held to the target. */
  target: boolean;
}

/** A pull-only reader, so the SDK aggregates as in production without exporting anything. */
class IdleReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** Prebuilt events cycled through, so the measurement does not include building envelopes. */
function makeEvents(count: number): DomainEvent[] {
  const source = {
    taskUuid: '0190a000-0000-7000-8000-000000000001',
    stepUuid: '0190a000-0000-7000-8000-000000000002',
    stepName: 'charge_card',
    namespace: 'payments',
    correlationId: 'bench',
    firedBy: 'bench',
  };
  return Array.from({ length: count }, (_, i) => createDomainEvent('payment.charged', { i }, source));
}

/** Dispatches `total` events `batch` at a time and resolves when the subscriber has had them all. */
type Publisher = (total: number) => Promise<number>;

/**
 * Our path with one `payment.*` subscriber. With `block` the publisher awaits the promise
 * `dispatch` returns when the queue is full; with the drop strategies it yields once per
 * buffer-full (as a worker does between steps), so nothing is dropped and the rate is comparable.
 */
function dispatcherPublisher(
  strategy: OverflowStrategy,
  batch: number,
  metrics: DomainEventMetrics,
): Publisher {
  const registry = new EventRegistry();
  let handled = 0;
  registry.subscribe('payment.*', () => {
    handled += 1;
  });
  const broadcast = createBroadcast({ bufferSize: BUFFER_SIZE, overflowStrategy: strategy, metrics });
  const dispatcher = new FireAndForgetDispatcher(registry, broadcast);
  const events = makeEvents(BUFFER_SIZE);
  const batches = Array.from({ length: BUFFER_SIZE / batch }, (_, i) =>
    events.slice(i * batch, (i + 1) * batch),
  );
  return async (total) => {
    handled = 0;
    for (let sent = 0, b = 0; sent < total; sent += batch, b = (b + 1) % batches.length) {
      const wait = dispatcher.dispatch(batches[b]!);
      if (wait !== undefined) await wait;
      else if (b === batches.length - 1 && strategy !== 'block') await dispatcher.idle();
    }
    await dispatcher.idle();
    const dropped = dispatcher.stats()[0]?.dropped ?? 0;
    if (dropped > 0) throw new Error(`benchmark dropped ${dropped} events`);
    return handled;
  };
}

/** Node's EventEmitter, one listener, emit per event. */
function emitterPublisher(): Publisher {
  const emitter = new EventEmitter();
  let handled = 0;
  emitter.on('payment.charged', () => {
    handled += 1;
  });
  const events = makeEvents(BUFFER_SIZE);
  return (total) => {
    handled = 0;
    for (let i = 0; i < total; i++) {
      const event = events[i % BUFFER_SIZE]!;
      emitter.emit(event.name, event);
    }
    return Promise.resolve(handled);
  };
}

/** Median rate over the rounds, after a warm-up. */
async function measure(publish: Publisher): Promise<number> {
  await publish(WARM_UP);
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    const handled = await publish(EVENTS);
    const elapsed = performance.now() - start;
    if (handled !== EVENTS) throw new Error(`subscriber handled ${handled} of ${EVENTS} events`);
    rates.push(perSecond(handled, elapsed));
  }
  return rates.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!;
}

/** Runs every measurement, prints the table; true when every dispatcher row reached the target. */
export async function run(): Promise<boolean> {
  const sdk = new MeterProvider({ readers: [new IdleReader()] });
  const withSdk = createDomainEventMetrics(DEFAULT_DOMAIN_EVENT_METRICS_CONFIG, {
    meter: sdk.getMeter('tasker'),
  });
  // Without an SDK, the API hands out its no-op meter: the default of a library user.
  const apiOnly = createDomainEventMetrics(DEFAULT_DOMAIN_EVENT_METRICS_CONFIG);
  const off = NOOP_DOMAIN_EVENT_METRICS;

  const cases: [string, () => Publisher, boolean][] = [
    [
      'dispatcher, block, 1 event per dispatch, metrics off',
      () => dispatcherPublisher('block', 1, off),
      true,
    ],
    [
      'dispatcher, block, 10 events per dispatch, metrics off',
      () => dispatcherPublisher('block', 10, off),
      true,
    ],
    [
      'dispatcher, drop_oldest, 1 per dispatch, metrics off',
      () => dispatcherPublisher('drop_oldest', 1, off),
      true,
    ],
    [
      'dispatcher, drop_newest, 1 per dispatch, metrics off',
      () => dispatcherPublisher('drop_newest', 1, off),
      true,
    ],
    [
      'dispatcher, block, 1 per dispatch, metrics on, no SDK',
      () => dispatcherPublisher('block', 1, apiOnly),
      true,
    ],
    [
      'dispatcher, block, 1 per dispatch, metrics on, OTel SDK',
      () => dispatcherPublisher('block', 1, withSdk),
      false,
    ],
    ['EventEmitter.emit (synchronous, unbounded)', emitterPublisher, false],
  ];
  const rows: Row[] = [];
  for (const [path, make, target] of cases) rows.push({ path, rate: await measure(make()), target });
  await sdk.shutdown();

  const table = formatTable(
    [
      { header: 'path (1 subscriber)' },
      { header: 'events/s', align: 'right' },
      { header: 'target ≥ 2,000,000' },
    ],
    rows.map((row) => [
      row.path,
      formatCount(row.rate),
      row.target ? (row.rate >= TARGET_PER_SECOND ? '✔' : '✘ below target') : '(reference)',
    ]),
  );
  const context = `${os.cpus().length} CPUs, Node ${process.version}, buffer ${BUFFER_SIZE}, median of ${ROUNDS} × ${formatCount(EVENTS)} events`;
  console.log(`\nDomain events, fire_and_forget (in process) — ${context}\n\n${table}\n`);
  return rows.every((row) => !row.target || row.rate >= TARGET_PER_SECOND);
}

// Also runnable on its own: `npx tsx bench/events-fire-and-forget.ts`.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().then(
    (passed) => {
      process.exitCode = passed ? 0 : 1;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
