import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TaskerError } from '../../src/errors.js';
import { loadConfig, type LoadConfigOptions } from '../../src/config/load.js';
import { makeConfigRoot, removeConfigRoots } from './config-fixtures.js';

afterAll(removeConfigRoots);

/** The CONFIG_INVALID message `loadConfig` fails with; fails the test if it loads. */
async function loadError(options: LoadConfigOptions): Promise<string> {
  const error: unknown = await loadConfig({ environ: {}, ...options }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(TaskerError);
  expect((error as TaskerError).code).toBe('CONFIG_INVALID');
  const message = (error as TaskerError).message;
  expect(message).not.toContain('\n');
  return message;
}

describe('loadConfig: bad input', () => {
  it('names file, line and column of a TOML syntax error, with smol-toml’s message', async () => {
    const root = await makeConfigRoot({ 'base/events.toml': '[events]\nenabled = tru\n' });
    const file = join(root, 'base', 'events.toml');
    expect(await loadError({ root })).toBe(`${file}:2:11: Invalid TOML document: invalid value`);
  });

  it('names file, key, expected type and value of a wrong type', async () => {
    const root = await makeConfigRoot({
      'base/events.toml': '[events.durable]\nmax_delivery_attempts = "five"\n',
    });
    expect(await loadError({ root })).toBe(
      `${join(root, 'base', 'events.toml')}: events.durable.max_delivery_attempts: ` +
        'expected a positive integer, got "five"',
    );
  });

  it('blames the file that set the value last, not the base that was overridden', async () => {
    const root = await makeConfigRoot({
      'base/events.toml': '[events.fire_and_forget]\noverflow_strategy = "block"\n',
      'environments/production/events.toml': '[events.fire_and_forget]\noverflow_strategy = "drop_all"\n',
    });
    expect(await loadError({ root, env: 'production' })).toBe(
      `${join(root, 'environments', 'production', 'events.toml')}: events.fire_and_forget.overflow_strategy: ` +
        'expected one of "drop_oldest", "drop_newest", "block", got "drop_all"',
    );
  });

  it('names file and key of an unknown key, listing the keys of its table', async () => {
    const root = await makeConfigRoot({ 'base/engine.toml': '[worker]\nconcurency = 4\n' });
    const message = await loadError({ root });
    expect(message).toMatch(
      new RegExp(
        `^${escape(join(root, 'base', 'engine.toml'))}: worker\\.concurency: unknown key; worker has `,
      ),
    );
    expect(message).toContain('concurrency, batch_size');
  });

  it('rejects an unknown section and a table where a value belongs', async () => {
    const root = await makeConfigRoot({
      'base/a.toml': '[event.durable]\nmax_delivery_attempts = 3\n',
      'base/b.toml': '[database.pool_size]\nmin = 1\n',
    });
    const message = await loadError({ root });
    expect(message).toContain(
      `${join(root, 'base', 'a.toml')}: event: unknown key; the top level has events,`,
    );
    expect(message).toContain(
      `${join(root, 'base', 'b.toml')}: database.pool_size: expected a positive integer, got { min = 1 }`,
    );
  });

  it('reports a bad array element and unordered buckets as the array key', async () => {
    const bad = await makeConfigRoot({ 'base/e.toml': '[events.metrics]\nhistogram_buckets = [0.1, "x"]\n' });
    expect(await loadError({ root: bad })).toBe(
      `${join(bad, 'base', 'e.toml')}: events.metrics.histogram_buckets: ` +
        'expected a non-empty ascending list of positive numbers, got [0.1, "x"]',
    );
    const unordered = await makeConfigRoot({
      'base/e.toml': '[events.metrics]\nhistogram_buckets = [1.0, 0.5]\n',
    });
    expect(await loadError({ root: unordered })).toBe(
      `${join(unordered, 'base', 'e.toml')}: events.metrics.histogram_buckets: ` +
        'expected bucket bounds in strictly ascending order, got [1, 0.5]',
    );
  });

  it('names the path of an environment whose directory does not exist', async () => {
    const root = await makeConfigRoot({ 'environments/production/events.toml': '' });
    expect(await loadError({ root, env: 'staging' })).toBe(
      `${join(root, 'environments', 'staging')}: no such directory for environment "staging" ` +
        '(environments: production)',
    );
    expect(await loadError({ root, environ: { TASKER_ENV: '../production' } })).toContain(
      'environment name "../production"',
    );
  });

  it('names the variable, key, expected type and value of a bad environment value', async () => {
    const root = await makeConfigRoot({});
    expect(await loadError({ root, environ: { TASKER__EVENTS__ENABLED: 'maybe' } })).toBe(
      'TASKER__EVENTS__ENABLED: events.enabled: expected a boolean, got "maybe"',
    );
    expect(await loadError({ root, environ: { TELEMETRY_ENABLED: '1' } })).toBe(
      'TELEMETRY_ENABLED: telemetry.enabled: expected a boolean, got 1',
    );
    expect(await loadError({ root, environ: { OTEL_EXPORTER_OTLP_ENDPOINT: 'localhost:4317' } })).toBe(
      'OTEL_EXPORTER_OTLP_ENDPOINT: telemetry.otlp_endpoint: expected a URL, got "localhost:4317"',
    );
    expect(await loadError({ root, environ: { TASKER__TELEMETRY__PROMETHEUS_PORT: '70000' } })).toBe(
      'TASKER__TELEMETRY__PROMETHEUS_PORT: telemetry.prometheus_port: expected an integer from 0 to 65535, got 70000',
    );
  });

  it('names the variable of an unknown key and of a malformed variable name', async () => {
    const root = await makeConfigRoot({});
    expect(await loadError({ root, environ: { TASKER__EVENTS__DURABLE__MAX_ATTEMPTS: '5' } })).toMatch(
      /^TASKER__EVENTS__DURABLE__MAX_ATTEMPTS: events\.durable\.max_attempts: unknown key; events\.durable has /,
    );
    expect(await loadError({ root, environ: { TASKER__EVENTS____ENABLED: 'true' } })).toMatch(
      /^TASKER__EVENTS____ENABLED: not a configuration key/,
    );
  });

  it('reports every problem on one line', async () => {
    const root = await makeConfigRoot({
      'base/engine.toml': '[worker]\nconcurrency = 0\nbatch_size = 1.5\n',
    });
    const file = join(root, 'base', 'engine.toml');
    expect(await loadError({ root, environ: { TASKER__DATABASE__POOL_SIZE: 'big' } })).toBe(
      `TASKER__DATABASE__POOL_SIZE: database.pool_size: expected a positive integer, got "big"; ` +
        `${file}: worker.concurrency: expected a positive integer, got 0; ` +
        `${file}: worker.batch_size: expected a positive integer, got 1.5`,
    );
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
