import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { STEP_TRANSITIONS } from '../../src/state/step-state-machine.js';
import { TASK_TRANSITIONS } from '../../src/state/task-state-machine.js';
import { renderStateMachinesDoc } from '../../src/state/transition-table-doc.js';

const committed = readFileSync(new URL('../../docs/state-machines.md', import.meta.url), 'utf8');

describe('docs/state-machines.md', () => {
  it('is what the renderer produces from the tables (run `npm run docs:states` after changing them)', () => {
    expect(committed).toBe(renderStateMachinesDoc());
  });

  it('lists every edge in a table row and in a diagram line', () => {
    for (const [from, edges] of [...Object.entries(TASK_TRANSITIONS), ...Object.entries(STEP_TRANSITIONS)]) {
      for (const edge of edges) {
        expect(committed).toContain(`| \`${from}\` | \`${edge.event}\` | \`${edge.to}\` |`);
        expect(committed).toContain(`    ${from} --> ${edge.to} : ${edge.event}`);
      }
    }
  });
});
