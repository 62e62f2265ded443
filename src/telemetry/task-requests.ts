import { metrics, type Counter, type MeterProvider } from '@opentelemetry/api';
import { METRICS, TASKER_METER } from './metric-catalog.js';

/*
 * `tasker.tasks.requests.total`, counted where tasks are created (createTask), through the
 * global meter provider like any library instrumentation: the process that creates tasks (an
 * application, the CLI) may not run any engine part. Without a registered SDK this is the
 * API's no-op counter.
 */

let cached: { provider: MeterProvider; counter: Counter } | undefined;

/** Counts one created task of `namespace`. */
export function countTaskRequest(namespace: string): void {
  const provider = metrics.getMeterProvider();
  if (cached?.provider !== provider) {
    const counter = provider.getMeter(TASKER_METER).createCounter(METRICS.taskRequests.name, {
      description: METRICS.taskRequests.description,
      unit: METRICS.taskRequests.unit,
    });
    cached = { provider, counter };
  }
  cached.counter.add(1, { namespace });
}
