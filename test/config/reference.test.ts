import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderConfigReference } from '../../src/config/reference.js';
import { configEntries } from '../../src/config/schema-info.js';

describe('docs/configuration.md', () => {
  it('is what the schema renders (run `npm run docs:config` after changing the schema)', async () => {
    const committed = await readFile(
      join(import.meta.dirname, '..', '..', 'docs', 'configuration.md'),
      'utf8',
    );
    expect(committed).toBe(renderConfigReference());
  });

  it('documents every key with a description, a type and its variable', () => {
    const page = renderConfigReference();
    const keys = configEntries().filter((entry) => entry.kind === 'key');
    expect(keys.length).toBeGreaterThanOrEqual(30);
    for (const key of keys) {
      expect(key.description, key.path.join('.')).not.toBe('');
      expect(key.type, key.path.join('.')).not.toBe('value');
      expect(page).toContain(`\`${key.envVar}\``);
    }
    for (const alias of [
      'TELEMETRY_ENABLED',
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'OTEL_SERVICE_NAME',
      'DEPLOYMENT_ENVIRONMENT',
    ]) {
      expect(page).toContain(`\`${alias}\``);
    }
  });
});
