import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';

const REPO_ROOT = join(import.meta.dirname, '..', '..', 'config', 'tasker');
const NO_FILES = join(REPO_ROOT, 'no-such-root');

describe('loadConfig: environment variables', () => {
  it('overrides nested keys with double underscores, parsing numbers, booleans and arrays', async () => {
    const config = await loadConfig({
      root: REPO_ROOT,
      env: 'production',
      environ: {
        TASKER__EVENTS__DURABLE__MAX_DELIVERY_ATTEMPTS: '7',
        TASKER__EVENTS__ENABLED: 'false',
        TASKER__EVENTS__METRICS__HISTOGRAM_BUCKETS: '[0.01, 0.1, 1.0, 10]',
        TASKER__EVENTS__DEFAULT_DELIVERY: 'durable',
        TASKER__TELEMETRY__SERVICE_NAME: '"quoted-name"',
      },
    });
    expect(config.events.durable.max_delivery_attempts).toBe(7);
    expect(config.events.enabled).toBe(false);
    expect(config.events.metrics.histogram_buckets).toEqual([0.01, 0.1, 1, 10]);
    expect(config.events.default_delivery).toBe('durable');
    expect(config.telemetry.service_name).toBe('quoted-name');
    // The production file still applies under the variables.
    expect(config.events.durable.dlq_retention_days).toBe(30);
  });

  it('reads the path case-insensitively and ignores empty values', async () => {
    const config = await loadConfig({
      root: NO_FILES,
      environ: { Tasker__Worker__Concurrency: '4', TASKER__WORKER__BATCH_SIZE: '' },
    });
    expect(config.worker.concurrency).toBe(4);
    expect(config.worker.batch_size).toBe(50);
  });

  it('keeps the text of string keys as written, even when it looks like a number', async () => {
    const config = await loadConfig({
      root: NO_FILES,
      environ: { TASKER__TELEMETRY__SERVICE_NAME: '2024', TASKER__TELEMETRY__DEPLOYMENT_ENVIRONMENT: 'true' },
    });
    expect(config.telemetry.service_name).toBe('2024');
    expect(config.telemetry.deployment_environment).toBe('true');
  });

  it('sets a whole table from an inline TOML table, with specific keys winning', async () => {
    const config = await loadConfig({
      root: NO_FILES,
      environ: {
        TASKER__DATABASE: '{ pool_size = 3 }',
        TASKER__WORKER__CONCURRENCY: '2',
        TASKER__WORKER: '{ concurrency = 9, batch_size = 8 }',
      },
    });
    expect(config.database.pool_size).toBe(3);
    expect(config.worker).toMatchObject({ concurrency: 2, batch_size: 8 });
  });

  it('maps the spec 1.3 telemetry variables, and TASKER__ variables win over them', async () => {
    const environ = {
      TELEMETRY_ENABLED: 'true',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4317',
      OTEL_SERVICE_NAME: 'tasker-core',
      DEPLOYMENT_ENVIRONMENT: 'production',
    };
    const config = await loadConfig({ root: REPO_ROOT, environ });
    expect(config.telemetry).toEqual({
      enabled: true,
      otlp_endpoint: 'http://localhost:4317',
      service_name: 'tasker-core',
      deployment_environment: 'production',
    });
    const overridden = await loadConfig({
      root: REPO_ROOT,
      environ: { ...environ, TASKER__TELEMETRY__SERVICE_NAME: 'from-tasker-var' },
    });
    expect(overridden.telemetry.service_name).toBe('from-tasker-var');
  });

  it('leaves variables with a single underscore alone', async () => {
    const config = await loadConfig({
      root: NO_FILES,
      environ: { TASKER_LOG_LEVEL: 'debug', TASKER_DATA_DIR: '/tmp/x', TASKER_PGMQ: 'auto' },
    });
    expect(config).toEqual(await loadConfig({ root: NO_FILES, environ: {} }));
  });
});
