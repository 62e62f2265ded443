import { describe, expect, it } from 'vitest';
import {
  assertConsistentEventSchemas,
  assertNotReservedEventName,
  assertValidEventName,
  canonicalJson,
  compileEventSchema,
} from '../../src/templates/event-declarations.js';
import { validateTemplate } from '../../src/templates/validate.js';

describe('event names', () => {
  it.each(['payment.charged', 'payment.card.charged', 'a1.b_2', 'order.v2.shipped'])('accepts %s', (name) => {
    expect(() => assertValidEventName(name, 'here')).not.toThrow();
  });

  it.each([
    'payment',
    'Payment.charged',
    'payment.Charged',
    'payment..charged',
    '.payment',
    'payment.',
    '1pay.x',
    'pay-ment.x',
    'payment.*',
  ])('refuses %s', (name) => {
    expect(() => assertValidEventName(name, 'here')).toThrow(
      /^here: ".*" is not an event name like domain\.action/,
    );
  });

  it('refuses names longer than 255 characters', () => {
    expect(() => assertValidEventName(`a.${'b'.repeat(254)}`, 'here')).toThrow(
      'event name is 256 characters',
    );
  });

  it('refuses the reserved prefixes in names and subscription patterns, with EVENT_INVALID by default', () => {
    for (const name of [
      'task.completed',
      'step.failed',
      'workflow.task_started',
      'task.*',
      'step.#',
      'TASK.x',
      'workflow',
    ]) {
      const check = () => assertNotReservedEventName(name, `subscription "${name}"`);
      expect(check).toThrow(/reserved prefix/);
      expect(check).toThrow(expect.objectContaining({ code: 'EVENT_INVALID' }));
    }
    expect(() => assertNotReservedEventName('task.done', 'f.yaml: x', 'TEMPLATE_INVALID')).toThrow(
      expect.objectContaining({ code: 'TEMPLATE_INVALID' }),
    );
    for (const name of ['#', '*.completed', 'tasks.completed', 'payment.task', 'stepper.x']) {
      expect(() => assertNotReservedEventName(name, 'here')).not.toThrow();
    }
  });
});

describe('compileEventSchema', () => {
  it('compiles draft 2020-12 by default, with formats', () => {
    const validate = compileEventSchema(
      { type: 'object', properties: { email: { type: 'string', format: 'email' } }, required: ['email'] },
      'here',
    );
    expect(validate({ email: 'a@example.com' })).toBe(true);
    expect(validate({ email: 'not an email' })).toBe(false);
  });

  it('picks the draft by $schema: prefixItems is a 2020-12 keyword, unknown to draft-07', () => {
    const tuple = { type: 'array', prefixItems: [{ type: 'string' }], items: false };
    const modern = compileEventSchema(tuple, 'here');
    expect(modern(['a'])).toBe(true);
    expect(modern(['a', 'b'])).toBe(false);
    expect(() =>
      compileEventSchema({ $schema: 'http://json-schema.org/draft-07/schema#', ...tuple }, 'here'),
    ).toThrow('here: schema does not compile: strict mode: unknown keyword: "prefixItems"');
    const legacy = compileEventSchema(
      {
        $schema: 'http://json-schema.org/draft-07/schema#',
        type: 'array',
        items: [{ type: 'string' }],
        additionalItems: false,
      },
      'here',
    );
    expect(legacy(['a'])).toBe(true);
    expect(legacy(['a', 'b'])).toBe(false);
  });

  it('returns the cached validator for the same schema object, and keeps same-$id schemas apart', () => {
    const schema = { type: 'string' };
    expect(compileEventSchema(schema, 'here')).toBe(compileEventSchema(schema, 'here'));
    const first = compileEventSchema({ $id: 'https://example.com/payload', type: 'string' }, 'here');
    const second = compileEventSchema({ $id: 'https://example.com/payload', type: 'number' }, 'here');
    expect([first('x'), second('x'), second(1)]).toEqual([true, false, true]);
  });

  it('throws EVENT_INVALID by default, naming where', () => {
    expect(() => compileEventSchema({ type: 'strng' }, 'publisher')).toThrow(
      expect.objectContaining({
        code: 'EVENT_INVALID',
        message:
          'publisher: not a valid JSON Schema (2020-12) at /type: must be equal to one of the allowed values',
      }),
    );
  });
});

describe('event schemas across templates', () => {
  const template = (file: string, namespace: string, schema: object) =>
    validateTemplate(
      {
        name: 'charge',
        namespace_name: namespace,
        version: '1.0.0',
        steps: [
          {
            name: 'charge',
            handler: { callable: 'C' },
            publishes_events: [{ name: 'payment.charged', schema }],
          },
        ],
      },
      file,
    );

  it('allows the same name with the same schema (key order aside) and in other namespaces', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe(canonicalJson({ a: [{ c: 3, d: 2 }], b: 1 }));
    expect(() =>
      assertConsistentEventSchemas([
        template('a.yaml', 'payments', { type: 'object', required: ['id'] }),
        template('b.yaml', 'payments', { required: ['id'], type: 'object' }),
        template('c.yaml', 'billing', { type: 'string' }),
      ]),
    ).not.toThrow();
  });

  it('refuses different schemas for one name in one namespace', () => {
    expect(() =>
      assertConsistentEventSchemas([
        template('a.yaml', 'payments', { type: 'object' }),
        template('b.yaml', 'payments', { type: 'object', required: ['id'] }),
      ]),
    ).toThrow(
      'b.yaml: steps[0].publishes_events[0].schema: event "payment.charged" in namespace payments has a different schema than at a.yaml: steps[0].publishes_events[0].schema',
    );
  });
});
