import { describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../src/events/domain/envelope.js';
import {
  EventRegistry,
  registerSubscribers,
  type SubscriberDefinition,
} from '../../src/events/domain/registry.js';
import { TaskerError } from '../../src/errors.js';

function notify(_event: DomainEvent): void {}
function audit(_event: DomainEvent): void {}

/** The error `fn` throws (fails the test when it throws none). */
function thrown(fn: () => unknown): TaskerError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TaskerError);
    expect((error as TaskerError).code).toBe('EVENT_INVALID');
    return error as TaskerError;
  }
  throw new Error('expected an error');
}

const ids = (list: readonly { id: string }[]) => list.map((s) => s.id);

describe('EventRegistry', () => {
  it('finds the subscriptions whose pattern matches, per delivery path, in registration order', () => {
    const registry = new EventRegistry();
    registry.subscribe('payment.*', notify, { id: 'star' });
    registry.subscribe('payment.#', audit, { id: 'hash', delivery: 'durable' });
    registry.subscribe('#', audit, { id: 'all' });
    registry.subscribe('order.created', notify, { id: 'order' });

    expect(ids(registry.matching('payment.charged', 'fire_and_forget'))).toEqual(['star', 'all']);
    expect(ids(registry.matching('payment.card.charged', 'fire_and_forget'))).toEqual(['all']);
    expect(ids(registry.matching('payment', 'durable'))).toEqual(['hash']);
    expect(ids(registry.matching('order.created', 'durable'))).toEqual([]);
    expect(ids(registry.subscriptions())).toEqual(['star', 'hash', 'all', 'order']);
    expect(ids(registry.subscriptions('durable'))).toEqual(['hash']);
    const hash = registry.subscriptions('durable')[0]!;
    expect(hash).toMatchObject({ pattern: 'payment.#', delivery: 'durable', handler: audit });
    expect(hash.matches('payment.x.y')).toBe(true);
  });

  it('unsubscribes (idempotently) and refreshes cached matches', () => {
    const registry = new EventRegistry();
    const unsubscribe = registry.subscribe('payment.*', notify, { id: 'a' });
    expect(ids(registry.matching('payment.charged', 'fire_and_forget'))).toEqual(['a']);
    const before = registry.generation;
    let changes = 0;
    const stopListening = registry.onChange(() => (changes += 1));
    registry.subscribe('#', audit, { id: 'b' });
    expect(ids(registry.matching('payment.charged', 'fire_and_forget'))).toEqual(['a', 'b']);
    unsubscribe();
    unsubscribe();
    expect(ids(registry.matching('payment.charged', 'fire_and_forget'))).toEqual(['b']);
    expect(registry.generation).toBe(before + 2);
    expect(changes).toBe(2);
    stopListening();
    // The id is free again.
    registry.subscribe('order.*', notify, { id: 'a' });
    expect(changes).toBe(2);
    expect(ids(registry.subscriptions())).toEqual(['b', 'a']);
  });

  it('refuses invalid and reserved patterns', () => {
    const registry = new EventRegistry();
    expect(thrown(() => registry.subscribe('pay*', notify)).message).toContain(
      'subscribe("pay*"): invalid event pattern "pay*": segment 1 "pay*" mixes a wildcard',
    );
    for (const pattern of ['task.*', 'step.#', 'workflow', 'task.completed']) {
      expect(thrown(() => registry.subscribe(pattern, notify)).message).toBe(
        `subscribe(${JSON.stringify(pattern)}): ${JSON.stringify(pattern)} uses the reserved prefix ` +
          `"${pattern.split('.')[0]}." (task., step. and workflow. belong to system events, which are telemetry only)`,
      );
    }
    expect(thrown(() => registry.subscribe('', notify)).message).toContain('it is empty');
    // Wildcard-first patterns may look like they match system names; they are allowed.
    expect(() => registry.subscribe('*.completed', notify)).not.toThrow();
    expect(() => registry.subscribe('#', notify)).not.toThrow();
    expect(registry.subscriptions()).toHaveLength(2);
  });

  it('refuses a bad delivery, handler or id', () => {
    const registry = new EventRegistry();
    expect(
      thrown(() => registry.subscribe('a.b', notify, { delivery: 'acknowledged' as never })).message,
    ).toBe(
      'subscribe("a.b"): delivery must be "fire_and_forget" or "durable", got "acknowledged"; ' +
        '"acknowledged" is declared on the event (publishes_events), subscribe with "durable" to receive it',
    );
    expect(thrown(() => registry.subscribe('a.b', notify, { delivery: 'later' as never })).message).toContain(
      'got "later"',
    );
    expect(thrown(() => registry.subscribe('a.b', 'notify' as never)).message).toContain(
      'the handler must be a function, got string',
    );
    expect(thrown(() => registry.subscribe('a.b', notify, { id: ' ' })).message).toContain(
      'id must be a non-empty string',
    );
    expect(thrown(() => registry.subscribe('a.b', notify, { id: 'x'.repeat(256) })).message).toContain(
      'longer than 255',
    );
    registry.subscribe('a.b', notify, { id: 'taken' });
    expect(thrown(() => registry.subscribe('c.d', audit, { id: 'taken' })).message).toBe(
      'subscribe("c.d"): subscriber id "taken" is already used by the subscription to "a.b"; ids must be unique',
    );
    expect(registry.subscriptions()).toHaveLength(1);
  });

  it('derives ids from pattern, handler name and occurrence, the same after a restart', () => {
    const register = () => {
      const registry = new EventRegistry();
      registry.subscribe('payment.*', notify);
      registry.subscribe('payment.*', notify, { delivery: 'durable' });
      registry.subscribe('payment.*', audit);
      registry.subscribe('order.#', () => {});
      return ids(registry.subscriptions());
    };
    const first = register();
    expect(first).toEqual([
      'payment.*|notify|0',
      'payment.*|notify|1',
      'payment.*|audit|0',
      'order.#|anonymous|0',
    ]);
    expect(register()).toEqual(first);
  });
});

describe('registerSubscribers', () => {
  const valid: SubscriberDefinition[] = [
    { pattern: 'payment.*', handle: notify },
    { pattern: 'payment.failed', delivery: 'durable', id: 'pager', handle: (e) => void e },
    { pattern: 'order.#', delivery: 'fire_and_forget', handle: audit },
  ];

  it('registers a module export and returns one function that unsubscribes them all', () => {
    const registry = new EventRegistry();
    const unsubscribe = registerSubscribers(registry, valid, './handlers.ts');
    expect(registry.subscriptions().map((s) => [s.id, s.delivery])).toEqual([
      ['payment.*|notify|0', 'fire_and_forget'],
      ['pager', 'durable'],
      ['order.#|audit|0', 'fire_and_forget'],
    ]);
    unsubscribe();
    expect(registry.subscriptions()).toEqual([]);
  });

  it('registers nothing when the module exports no subscribers', () => {
    const registry = new EventRegistry();
    registerSubscribers(registry, undefined, './handlers.ts')();
    expect(registry.subscriptions()).toEqual([]);
  });

  const broken: [string, unknown, string][] = [
    [
      'not an array',
      { pattern: 'a.b', handle: notify },
      './handlers.ts: export "subscribers" must be an array of { pattern, delivery?, handle, id? }, got an object',
    ],
    [
      'an entry that is not an object',
      [...valid, 'payment.*'],
      './handlers.ts subscribers[3]: expected an object',
    ],
    [
      'an entry that is null',
      [null],
      './handlers.ts subscribers[0]: expected an object { pattern, delivery?, handle, id? }, got null',
    ],
    [
      'a misspelt key',
      [{ pattern: 'a.b', hanlde: notify }],
      './handlers.ts subscribers[0]: unknown key "hanlde" (expected pattern, delivery, handle, id)',
    ],
    ['no pattern', [{ handle: notify }], './handlers.ts subscribers[0]: "pattern" is missing'],
    [
      'no handle',
      [valid[0], { pattern: 'a.b' }],
      './handlers.ts subscribers[1]: "handle" must be a function (event) => void | Promise<void>, got nothing',
    ],
    [
      'a reserved pattern',
      [valid[0], valid[1], { pattern: 'task.*', handle: notify }],
      './handlers.ts subscribers[2]: "task.*" uses the reserved prefix "task."',
    ],
    [
      'a pattern that is not a string',
      [{ pattern: 7, handle: notify }],
      './handlers.ts subscribers[0]: event pattern must be a string, got 7',
    ],
    [
      'a bad delivery',
      [{ pattern: 'a.b', delivery: 'sometimes', handle: notify }],
      './handlers.ts subscribers[0]: delivery must be',
    ],
    [
      'a duplicate id',
      [valid[1], { ...valid[1], pattern: 'x.y' }],
      './handlers.ts subscribers[1]: subscriber id "pager" is already used',
    ],
  ];

  it.each(broken)(
    'refuses %s, naming the module and index, and registers nothing',
    (_label, definitions, message) => {
      const registry = new EventRegistry();
      registry.subscribe('existing.event', notify, { id: 'existing' });
      expect(thrown(() => registerSubscribers(registry, definitions, './handlers.ts')).message).toContain(
        message,
      );
      expect(ids(registry.subscriptions())).toEqual(['existing']);
    },
  );
});
