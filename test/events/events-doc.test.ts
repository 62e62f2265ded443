/**
 * docs/events.md against the code: its configuration table, metric names, pattern examples and
 * quoted template errors must stay true.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GENERATED_HEADER } from '../../src/codegen/event-types.js';
import { configEntries } from '../../src/config/schema-info.js';
import { DOMAIN_EVENT_METRIC_NAMES } from '../../src/events/domain/metrics.js';
import { compilePattern } from '../../src/events/domain/patterns.js';
import { parseTemplateYaml } from '../../src/templates/parse.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DOC = readFileSync(path.join(ROOT, 'docs/events.md'), 'utf8');

/** The backticked items of a markdown table cell. */
function codeItems(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1]!);
}

/** Rows of the table that follows `heading`, as cells (header and separator left out). */
function tableAfter(heading: string, firstCell: string): string[][] {
  const start = DOC.indexOf(heading);
  expect(start, heading).toBeGreaterThan(-1);
  const lines = DOC.slice(start).split('\n');
  const header = lines.findIndex((line) => line.startsWith(`| ${firstCell}`));
  const rows: string[][] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
  }
  return rows;
}

function formatDefault(value: unknown): string {
  return Array.isArray(value) ? `[${value.join(', ')}]` : String(value);
}

describe('docs/events.md', () => {
  it('lists every [events] key with its default', () => {
    const rows = new Map(
      tableAfter('## Configuration', 'Key').map((cells) => [
        codeItems(cells[0]!)[0],
        codeItems(cells[1]!)[0],
      ]),
    );
    const keys = configEntries().filter((entry) => entry.kind === 'key' && entry.path[0] === 'events');
    expect(keys.length).toBeGreaterThan(10);
    for (const key of keys) {
      expect(rows.get(key.path.join('.')), key.path.join('.')).toBe(formatDefault(key.default));
    }
    expect(rows.size).toBe(keys.length);
  });

  it('names every domain event metric', () => {
    const rows = tableAfter('## Metrics', 'Metric').map((cells) => codeItems(cells[0]!)[0]);
    expect(rows.sort()).toEqual(
      [...Object.values(DOMAIN_EVENT_METRIC_NAMES), 'tasker.domain_events.dlq.total'].sort(),
    );
  });

  it('gives pattern examples the matcher agrees with', () => {
    const rows = tableAfter('## Patterns', 'Pattern');
    expect(rows.length).toBeGreaterThan(3);
    for (const [pattern, matches, rejects] of rows) {
      const matcher = compilePattern(codeItems(pattern!)[0]!);
      for (const name of codeItems(matches!)) expect(matcher(name), `${pattern} ~ ${name}`).toBe(true);
      for (const name of codeItems(rejects!)) expect(matcher(name), `${pattern} !~ ${name}`).toBe(false);
    }
  });

  it('quotes template errors as the loader words them', () => {
    const template = (event: string) =>
      `name: bad\nnamespace_name: shop\nversion: 1.0.0\nsteps:\n  - name: s\n    handler: { callable: X }\n    publishes_events:\n      - ${event}\n`;
    for (const event of [
      '{ name: task.done, schema: {} }',
      '{ name: order.placed, schema: { type: object, requried: [id] } }',
    ]) {
      let message = '';
      try {
        parseTemplateYaml(template(event), 'shop.yaml');
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).not.toBe('');
      expect(DOC).toContain(`tasker: ${message}\n`);
    }
  });

  it('quotes the header of generated modules', () => {
    expect(DOC).toContain(GENERATED_HEADER.replace(/^\/\/ /, ''));
  });
});
