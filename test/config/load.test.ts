import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { isTable } from '../../src/config/merge.js';
import { configSchema } from '../../src/config/schema.js';
import { configEntries } from '../../src/config/schema-info.js';
import { makeConfigRoot, removeConfigRoots } from './config-fixtures.js';

const REPO_ROOT = join(import.meta.dirname, '..', '..', 'config', 'tasker');

afterAll(removeConfigRoots);

describe('loadConfig: files', () => {
  it('gives the schema defaults when the root does not exist', async () => {
    const config = await loadConfig({ root: join(REPO_ROOT, 'no-such-root'), environ: {} });
    expect(config).toEqual(configSchema.parse({}));
    expect(config.events.durable.max_delivery_attempts).toBe(3);
    expect(config.events.metrics.histogram_buckets).toEqual([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0]);
    expect(config.orchestration.retry_scan_interval_ms).toBe(250);
    expect(config.telemetry.otlp_endpoint).toBeUndefined();
  });

  it('ships base files whose values are exactly the schema defaults', async () => {
    const config = await loadConfig({ root: REPO_ROOT, environ: {} });
    expect(config).toEqual(configSchema.parse({}));
  });

  it('ships base files that spell out every key that has a default', async () => {
    const written = new Set<string>();
    for (const name of await readdir(join(REPO_ROOT, 'base'))) {
      collectLeaves(parseToml(await readFile(join(REPO_ROOT, 'base', name), 'utf8')), [], written);
    }
    const withDefaults = configEntries()
      .filter((entry) => entry.kind === 'key' && entry.default !== undefined)
      .map((entry) => entry.path.join('.'));
    expect([...written].sort()).toEqual(withDefaults.sort());
  });

  it('merges the production environment over base: the spec 6.2 values', async () => {
    const config = await loadConfig({ root: REPO_ROOT, env: 'production', environ: {} });
    expect(config.events.fire_and_forget.buffer_size).toBe(10000);
    expect(config.events.durable.max_delivery_attempts).toBe(5);
    expect(config.events.durable.dlq_retention_days).toBe(30);
    // Untouched keys of the same tables keep their base values.
    expect(config.events.fire_and_forget.overflow_strategy).toBe('drop_oldest');
    expect(config.events.durable.visibility_timeout).toBe(30);
    expect(config.events.durable.dlq_enabled).toBe(true);
  });

  it('takes the environment name from TASKER_ENV and the root from TASKER_CONFIG_ROOT', async () => {
    const root = await makeConfigRoot({
      'base/events.toml': '[events.durable]\nmax_delivery_attempts = 4\n',
      'environments/staging/events.toml': '[events.durable]\ndlq_retention_days = 12\n',
    });
    const config = await loadConfig({ environ: { TASKER_CONFIG_ROOT: root, TASKER_ENV: 'staging' } });
    expect(config.events.durable.max_delivery_attempts).toBe(4);
    expect(config.events.durable.dlq_retention_days).toBe(12);
  });

  it('prefers the root and env options over TASKER_CONFIG_ROOT and TASKER_ENV', async () => {
    const chosen = await makeConfigRoot({
      'base/engine.toml': '[worker]\nconcurrency = 3\n',
      'environments/a/engine.toml': '[worker]\nbatch_size = 4\n',
      'environments/b/engine.toml': '[worker]\nbatch_size = 5\n',
    });
    const ignored = await makeConfigRoot({ 'base/engine.toml': '[worker]\nconcurrency = 99\n' });
    const config = await loadConfig({
      root: chosen,
      env: 'b',
      environ: { TASKER_CONFIG_ROOT: ignored, TASKER_ENV: 'a' },
    });
    expect(config.worker).toMatchObject({ concurrency: 3, batch_size: 5 });
  });

  it('reads base files in name order, ignores other files, merges tables and replaces arrays', async () => {
    const root = await makeConfigRoot({
      'base/10-first.toml': '[events.metrics]\nenabled = false\nhistogram_buckets = [0.1, 0.2, 0.3]\n',
      'base/20-second.toml': '[events.metrics]\nhistogram_buckets = [5.0]\n',
      'base/notes.txt': 'not toml at all = = =',
      'environments/prod/x.toml': '[events.metrics]\nhistogram_buckets = [1.0, 2.0]\n',
    });
    const base = await loadConfig({ root, environ: {} });
    expect(base.events.metrics).toEqual({ enabled: false, histogram_buckets: [5] });
    const prod = await loadConfig({ root, env: 'prod', environ: {} });
    expect(prod.events.metrics).toEqual({ enabled: false, histogram_buckets: [1, 2] });
  });

  it('loads an environment even when base/ is missing', async () => {
    const root = await makeConfigRoot({ 'environments/only/db.toml': '[database]\npool_size = 2\n' });
    const config = await loadConfig({ root, env: 'only', environ: {} });
    expect(config.database.pool_size).toBe(2);
  });
});

function collectLeaves(table: Record<string, unknown>, path: string[], into: Set<string>): void {
  for (const [key, value] of Object.entries(table)) {
    if (isTable(value)) collectLeaves(value, [...path, key], into);
    else into.add([...path, key].join('.'));
  }
}
