import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ATTRIBUTE_DOCS } from '../../src/telemetry/attributes.js';
import { renderTelemetryDoc } from '../../src/telemetry/audit-doc.js';
import { METRICS } from '../../src/telemetry/metric-catalog.js';
import { SYSTEM_EVENTS } from '../../src/telemetry/system-events.js';

const committed = readFileSync(new URL('../../docs/telemetry.md', import.meta.url), 'utf8');

describe('docs/telemetry.md', () => {
  it('is what the renderer produces from the mapping data (run `npm run docs:telemetry` after changing it)', () => {
    expect(committed).toBe(renderTelemetryDoc());
  });

  it('lists every event with its constant and where it is emitted, every metric with its labels, every attribute', () => {
    for (const event of SYSTEM_EVENTS) {
      expect(committed).toContain(`| \`${event.name}\` | \`${event.constant}\` | ${event.purpose} |`);
      for (const mapping of event.telemetry) expect(committed).toContain(mapping.emittedAt);
    }
    for (const metric of Object.values(METRICS)) {
      expect(committed).toContain(`| \`${metric.name}\` | ${metric.instrument} |`);
      expect(committed).toContain(metric.labels.map((label) => `\`${label}\``).join(', '));
    }
    for (const name of Object.keys(ATTRIBUTE_DOCS)) expect(committed).toContain(`| \`${name}\` |`);
    expect(committed).toContain('├── Step span: step.execution');
  });
});
