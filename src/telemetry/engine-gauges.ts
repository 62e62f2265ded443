import type { BatchObservableResult, Meter, ObservableGauge } from '@opentelemetry/api';
import type { Database } from '../db/database.js';
import { logger } from '../logging/logger.js';
import { PgmqClient } from '../messaging/pgmq-client.js';
import { METRICS, type MetricKey } from './metric-catalog.js';

/*
 * Gauges of the engine's state, read from the database when a reader collects (every export
 * interval or Prometheus scrape), never on the engine's hot path. The values are global:
 * every process that registers them reports the same numbers.
 */

const STATE_SQL = `
SELECT n.name AS namespace,
       (SELECT count(*) FROM tasker.tasks t
         WHERE t.status = 'waiting_for_dependencies' AND t.namespace = n.name)::int AS waiting,
       (SELECT count(*) FROM tasker.tasks t
         WHERE t.status = 'blocked_by_failures' AND t.namespace = n.name)::int AS blocked,
       (SELECT count(*) FROM tasker.workflow_steps s JOIN tasker.tasks t ON t.task_uuid = s.task_uuid
         WHERE s.state = 'enqueued' AND t.namespace = n.name)::int AS ready
  FROM tasker.namespaces n`;

type GaugeKey = Extract<
  MetricKey,
  'tasksWaiting' | 'tasksBlocked' | 'stepsReady' | 'queueDepth' | 'queueOldestAge'
>;

/**
 * Registers `tasker.tasks.waiting`, `tasker.tasks.blocked`, `tasker.steps.ready` (per
 * namespace) and `tasker.queue.depth`, `tasker.queue.oldest_message_age` (per queue, from
 * `pgmq.metrics_all()`). Returns a function that unregisters them.
 */
export function registerEngineGauges(meter: Meter, db: Database): () => void {
  const queue = new PgmqClient(db);
  const gauge = (key: GaugeKey): ObservableGauge =>
    meter.createObservableGauge(METRICS[key].name, {
      description: METRICS[key].description,
      unit: METRICS[key].unit,
    });
  const gauges = {
    tasksWaiting: gauge('tasksWaiting'),
    tasksBlocked: gauge('tasksBlocked'),
    stepsReady: gauge('stepsReady'),
    queueDepth: gauge('queueDepth'),
    queueOldestAge: gauge('queueOldestAge'),
  };

  const observe = async (result: BatchObservableResult): Promise<void> => {
    try {
      const { rows } = await db.query<{ namespace: string; waiting: number; blocked: number; ready: number }>(
        STATE_SQL,
      );
      for (const row of rows) {
        const labels = { namespace: row.namespace };
        result.observe(gauges.tasksWaiting, row.waiting, labels);
        result.observe(gauges.tasksBlocked, row.blocked, labels);
        result.observe(gauges.stepsReady, row.ready, labels);
      }
      for (const metrics of await queue.metricsAll()) {
        const labels = { queue: metrics.queueName };
        result.observe(gauges.queueDepth, metrics.queueLength, labels);
        result.observe(gauges.queueOldestAge, metrics.oldestMsgAgeSec ?? 0, labels);
      }
    } catch (error) {
      // A collection without these values beats a failed export of every other metric.
      logger.warn({ err: error }, 'telemetry: reading engine gauges failed');
    }
  };
  const observables = Object.values(gauges);
  meter.addBatchObservableCallback(observe, observables);
  return () => meter.removeBatchObservableCallback(observe, observables);
}
