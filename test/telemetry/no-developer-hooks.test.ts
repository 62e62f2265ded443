/**
 * System events are telemetry only (spec 1.4 task 4): nothing lets a developer subscribe to
 * them, and domain events cannot take their names, neither as subscriptions nor as declared
 * events of a template.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventRegistry, registerSubscribers } from '../../src/events/domain/registry.js';
import { TaskerError } from '../../src/errors.js';
import { SYSTEM_EVENTS } from '../../src/telemetry/system-events.js';
import { loadTemplates } from '../../src/templates/load.js';

const NAMES = SYSTEM_EVENTS.map((event) => event.name);
const RESERVED_PATTERNS = ['task.*', 'step.#', 'workflow.*', 'task.#', 'workflow'];

function refusal(fn: () => unknown): TaskerError {
  try {
    fn();
  } catch (error) {
    if (error instanceof TaskerError) return error;
    throw error;
  }
  throw new Error('not refused');
}

describe('system events have no developer-facing hooks', () => {
  it('EventRegistry.subscribe refuses every system event name and the reserved patterns', () => {
    const registry = new EventRegistry();
    for (const pattern of [...NAMES, ...RESERVED_PATTERNS]) {
      const error = refusal(() => registry.subscribe(pattern, () => undefined));
      expect(error.code, pattern).toBe('EVENT_INVALID');
      expect(error.message, pattern).toContain(JSON.stringify(pattern));
      expect(error.message, pattern).toMatch(/reserved/);
      expect(error.message, pattern).toMatch(/system events/);
    }
    // Spelled in capitals, they are not even valid names.
    for (const pattern of ['Task.completed', 'STEP.failed']) {
      expect(refusal(() => registry.subscribe(pattern, () => undefined)).code, pattern).toBe('EVENT_INVALID');
    }
    expect(registry.subscriptions()).toEqual([]);
    // A domain event name is accepted, so the refusals above are about the prefix.
    expect(() => registry.subscribe('payment.charged', () => undefined)).not.toThrow();
  });

  it("a handler module's subscribers export cannot subscribe to them either, and nothing is half-registered", () => {
    const registry = new EventRegistry();
    const error = refusal(() =>
      registerSubscribers(
        registry,
        [
          { pattern: 'order.shipped', handle: () => undefined },
          { pattern: 'task.completed', handle: () => undefined },
        ],
        './handlers.ts',
      ),
    );
    expect(error.code).toBe('EVENT_INVALID');
    expect(error.message).toMatch(/^\.\/handlers\.ts subscribers\[1\]: /);
    expect(registry.subscriptions()).toEqual([]);
  });

  describe('templates cannot declare them as domain events', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'tasker-reserved-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it.each(['task.completed', 'step.failed', 'workflow.task_started', 'step.handle'])(
      'refuses %s',
      async (name) => {
        const file = join(dir, `${name.replace(/\W/g, '_')}.yaml`);
        await writeFile(
          file,
          [
            'name: reserved',
            'namespace_name: reserved_ns',
            'version: 1.0.0',
            'steps:',
            '  - name: only',
            '    handler: { callable: Reserved::Only }',
            '    publishes_events:',
            `      - name: ${name}`,
            '        schema: { type: object }',
            '',
          ].join('\n'),
        );
        const error = await loadTemplates([file]).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        expect(error).toBeInstanceOf(TaskerError);
        expect((error as TaskerError).message).toContain(file);
        expect((error as TaskerError).message).toMatch(/reserved/);
        expect((error as TaskerError).message).toContain(name);
      },
    );
  });
});
