import { z } from 'zod';

/*
 * The one schema of Tasker's configuration. Keys are snake_case as written in TOML; every key
 * has a description and a default, and docs/configuration.md is generated from this file
 * (`npm run docs:config`), so a key documented nowhere cannot exist.
 */

const positiveInt = () => z.int().positive();
const nonNegativeInt = () => z.int().min(0);

/** Delivery modes of domain events (spec 2.5). */
export const DELIVERY_MODES = ['fire_and_forget', 'durable', 'acknowledged'] as const;

/** What the in-process broadcast does when its buffer is full. */
export const OVERFLOW_STRATEGIES = ['drop_oldest', 'drop_newest', 'block'] as const;

const histogramBuckets = z
  .array(z.number().positive())
  .min(1)
  .refine(
    (buckets) => buckets.every((bound, i) => i === 0 || bound > (buckets[i - 1] ?? -Infinity)),
    'expected bucket bounds in strictly ascending order',
  )
  // Carried into the JSON Schema, so the reference page and error messages say "ascending".
  .meta({ 'x-order': 'ascending' });

const eventsSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Enable the domain event system (spec 6.1).'),
    default_delivery: z
      .enum(DELIVERY_MODES)
      .default('fire_and_forget')
      .describe('Delivery mode of events declared without an explicit `delivery` (spec 6.1).'),
    fire_and_forget: z
      .strictObject({
        buffer_size: positiveInt()
          .default(1000)
          .describe('Capacity of the in-process broadcast buffer, in events (spec 6.1).'),
        overflow_strategy: z
          .enum(OVERFLOW_STRATEGIES)
          .default('drop_oldest')
          .describe(
            'What happens when the broadcast buffer is full: drop the oldest buffered event, drop the ' +
              'new one, or make the publisher wait (spec 6.1).',
          ),
      })
      .prefault({})
      .describe('In-process broadcast of every published event (best effort, bounded).'),
    durable: z
      .strictObject({
        visibility_timeout: positiveInt()
          .default(30)
          .describe(
            'Seconds a read event stays invisible to other consumers; an unacknowledged event is ' +
              'redelivered after it (spec 6.1).',
          ),
        max_delivery_attempts: positiveInt()
          .default(3)
          .describe(
            'Deliveries of one event to one subscriber before it goes to the dead-letter queue (spec 6.1).',
          ),
        dlq_enabled: z
          .boolean()
          .default(true)
          .describe(
            'Move events that exhausted their delivery attempts to the dead-letter queue ' +
              '`{namespace}_domain_events_dlq` (spec 2.5, 6.1).',
          ),
        dlq_retention_days: positiveInt()
          .default(7)
          .describe('Days a dead-lettered event is kept before it is purged (spec 6.1).'),
        batch_size: positiveInt()
          .default(100)
          .describe('Tasker addition: events read from a namespace queue per poll.'),
        poll_interval_ms: positiveInt()
          .default(1000)
          .describe(
            'Tasker addition: milliseconds between polls of an idle queue; NOTIFY wakes consumers ' +
              'sooner, so this is the fallback.',
          ),
        retry_backoff_base_ms: positiveInt()
          .default(1000)
          .describe(
            'Tasker addition: base, in milliseconds, of the exponential delay between delivery ' +
              'attempts of one event, capped by `retry_backoff_max_ms`.',
          ),
        retry_backoff_max_ms: positiveInt()
          .default(60000)
          .describe('Tasker addition: upper bound of the redelivery delay, in milliseconds.'),
        dlq_purge_interval_seconds: positiveInt()
          .default(3600)
          .describe(
            'Tasker addition: seconds between purges of dead-lettered events older than ' +
              '`dlq_retention_days`.',
          ),
      })
      .prefault({})
      .describe('At-least-once delivery through one PGMQ queue per namespace (`{namespace}_domain_events`).'),
    metrics: z
      .strictObject({
        enabled: z.boolean().default(true).describe('Record event delivery metrics (spec 6.1).'),
        histogram_buckets: histogramBuckets
          .default([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0])
          .describe('Upper bounds, in seconds, of the delivery latency histogram buckets (spec 6.1).'),
      })
      .prefault({})
      .describe('Metrics about domain event delivery.'),
  })
  .prefault({})
  .describe('Domain events (tier 2): spec part 6.');

const databaseSchema = z
  .strictObject({
    pool_size: positiveInt()
      .default(10)
      .describe('Connections in the PostgreSQL pool of one process (with `DATABASE_URL`).'),
  })
  .prefault({})
  .describe('The PostgreSQL connection. Where to connect comes from `DATABASE_URL`, not from here.');

const orchestrationSchema = z
  .strictObject({
    batch_size: positiveInt()
      .default(100)
      .describe(
        'Messages an orchestrator reads from a queue per poll and processes in one statement; larger ' +
          'batches raise throughput under load and cost nothing when idle.',
      ),
    visibility_timeout: positiveInt()
      .default(30)
      .describe(
        'Seconds a message read by an orchestrator stays invisible; the message of a crashed ' +
          'orchestrator comes back after it.',
      ),
    poll_interval_ms: positiveInt()
      .default(1000)
      .describe(
        'Milliseconds between polls of an idle queue. NOTIFY wakes orchestrators at once; this is ' +
          'the slow fallback.',
      ),
    retry_scan_interval_ms: positiveInt()
      .default(250)
      .describe(
        'Milliseconds between scans for `waiting_for_retry` steps whose backoff has elapsed, which ' +
          'are then enqueued again.',
      ),
  })
  .prefault({})
  .describe('Orchestrator processes (`tasker orchestrator`).');

const workerSchema = z
  .strictObject({
    concurrency: positiveInt()
      .default(100)
      .describe(
        'Steps one worker process runs at the same time, per namespace; when it leaves room for ' +
          'another batch, the worker claims the next batch while the steps in hand run.',
      ),
    batch_size: positiveInt()
      .default(50)
      .describe(
        'Step messages a worker reads and claims from a queue per poll, at most `concurrency` (a claimed ' +
          "step's timeout starts at its claim).",
      ),
    visibility_timeout: positiveInt()
      .default(30)
      .describe(
        'Seconds a step message read by a worker stays invisible; the step of a killed worker ' +
          'comes back after it.',
      ),
    poll_interval_ms: positiveInt()
      .default(1000)
      .describe(
        'Milliseconds between polls of an idle queue. NOTIFY wakes workers at once; this is the ' +
          'slow fallback.',
      ),
    shutdown_timeout_ms: nonNegativeInt()
      .default(30000)
      .describe(
        'Milliseconds a stopping worker waits for running steps before it exits; their messages ' +
          'become visible again after `visibility_timeout`.',
      ),
    orchestrate_results: z
      .boolean()
      .default(true)
      .describe(
        "A worker orchestrates each step result in the transaction that reports it (the task's next " +
          'steps are enqueued at once) when no other process holds the task; the orchestrators take ' +
          'the rest. false: every result goes to the orchestrators through `orchestration_step_results`.',
      ),
  })
  .prefault({})
  .describe('Worker processes (`tasker worker`).');

const telemetrySchema = z
  .strictObject({
    enabled: z.boolean().default(false).describe('Export system events as OpenTelemetry spans and metrics.'),
    service_name: z.string().min(1).default('tasker').describe('OpenTelemetry `service.name`.'),
    otlp_endpoint: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('OTLP exporter endpoint, e.g. `http://localhost:4317`.'),
    deployment_environment: z.string().min(1).optional().describe('OpenTelemetry `deployment.environment`.'),
    prometheus_port: z
      .int()
      .min(0)
      .max(65535)
      .optional()
      .describe('Port of a Prometheus `/metrics` endpoint; unset or 0 serves none.'),
  })
  .prefault({})
  .describe('OpenTelemetry export of system events (tier 1) and metrics: spec 1.3.');

/** The configuration schema: validates merged TOML and environment values, fills defaults. */
export const configSchema = z
  .strictObject({
    events: eventsSchema,
    database: databaseSchema,
    orchestration: orchestrationSchema,
    worker: workerSchema,
    telemetry: telemetrySchema,
  })
  .prefault({});

/** The validated configuration, every default filled in. */
export type TaskerConfig = z.output<typeof configSchema>;

/**
 * Environment variables of the OpenTelemetry convention (spec 1.3) and the key each one sets.
 * They override the TOML files; a `TASKER__…` variable for the same key overrides them.
 */
export const CONFIG_ENV_ALIASES: Readonly<Record<string, readonly string[]>> = {
  TELEMETRY_ENABLED: ['telemetry', 'enabled'],
  OTEL_EXPORTER_OTLP_ENDPOINT: ['telemetry', 'otlp_endpoint'],
  OTEL_SERVICE_NAME: ['telemetry', 'service_name'],
  DEPLOYMENT_ENVIRONMENT: ['telemetry', 'deployment_environment'],
};
