import { describe, expect, it } from 'vitest';
import { TaskerError } from '../../src/errors.js';
import { MAX_NAMESPACE_LENGTH, validateTemplate } from '../../src/templates/validate.js';

type Doc = Record<string, unknown> & { steps: Record<string, unknown>[] };

function base(): Doc {
  return {
    name: 'process_payment',
    namespace_name: 'payments',
    version: '1.0.0',
    steps: [
      { name: 'charge_card', handler: { callable: 'Payments::ChargeCard' } },
      { name: 'notify', handler: { callable: 'Payments::Notify' }, dependencies: ['charge_card'] },
    ],
  };
}

function errorOf(doc: unknown): string {
  try {
    validateTemplate(doc, 'x.yaml');
  } catch (error) {
    if (error instanceof TaskerError && error.code === 'TEMPLATE_INVALID') return error.message;
    throw error;
  }
  throw new Error('expected the template to be refused');
}

function withStep(patch: Record<string, unknown>): Doc {
  const doc = base();
  doc.steps[0] = { ...doc.steps[0], ...patch };
  return doc;
}

describe('validateTemplate', () => {
  it('accepts the base template and returns it with defaults', () => {
    const template = validateTemplate(base(), 'x.yaml');
    expect(template.source).toBe('x.yaml');
    expect(template.steps.map((step) => [step.name, step.dependencies])).toEqual([
      ['charge_card', []],
      ['notify', ['charge_card']],
    ]);
    expect('description' in template).toBe(false);
    expect('inputSchema' in template).toBe(false);
  });

  it('returns a frozen copy, leaving the parsed value alone', () => {
    const inputSchema = { type: 'object' };
    const initialization = { gateway: { name: 'stripe' } };
    const eventSchema = { type: 'object' };
    const doc = { ...base(), input_schema: inputSchema };
    doc.steps[0] = {
      ...doc.steps[0],
      handler: { callable: 'C', initialization },
      publishes_events: [{ name: 'payment.charged', schema: eventSchema }],
    };
    const template = validateTemplate(doc, 'x.yaml');
    const step = template.steps[0];
    expect(template.inputSchema).toEqual(inputSchema);
    expect(template.inputSchema).not.toBe(inputSchema);
    expect(step?.handler.initialization).toEqual(initialization);
    expect(step?.handler.initialization).not.toBe(initialization);
    expect(step?.publishesEvents[0]?.schema).not.toBe(eventSchema);
    for (const original of [doc, inputSchema, initialization, initialization.gateway, eventSchema]) {
      expect(Object.isFrozen(original)).toBe(false);
    }
    expect(Object.isFrozen(step?.handler.initialization.gateway)).toBe(true);
    expect(Object.isFrozen(template.steps)).toBe(true);
  });

  it.each([
    ['1.0.0', true],
    ['0.0.1', true],
    ['10.20.30', true],
    ['1.0.0-alpha', true],
    ['1.0.0-alpha.1', true],
    ['1.0.0-0.3.7', true],
    ['1.0.0-x.7.z.92', true],
    ['1.0', false],
    ['01.0.0', false],
    ['1.0.0-01', false],
    ['1.0.0-', false],
    ['v1.0.0', false],
    ['1.0.0.0', false],
    [' 1.0.0', false],
  ])('version %j valid: %s', (version, ok) => {
    const doc = { ...base(), version };
    if (ok) expect(validateTemplate(doc, 'x.yaml').version).toBe(version);
    else expect(errorOf(doc)).toMatch(/^x\.yaml: version: /);
  });

  it('accepts a namespace of exactly 29 characters and refuses 30', () => {
    const longest = 'n'.repeat(MAX_NAMESPACE_LENGTH);
    expect(MAX_NAMESPACE_LENGTH).toBe(29);
    expect(`${longest}_domain_events_dlq`).toHaveLength(47);
    expect(validateTemplate({ ...base(), namespace_name: longest }, 'x.yaml').namespace).toBe(longest);
    expect(errorOf({ ...base(), namespace_name: `${longest}n` })).toContain('is 30 characters; at most 29');
  });

  it('refuses a step name longer than 63 characters', () => {
    expect(errorOf(withStep({ name: 's'.repeat(64) }))).toBe(
      `x.yaml: steps[0].name: "${'s'.repeat(64)}" is 64 characters; at most 63`,
    );
  });

  it.each([
    ['', 'x.yaml: name: must not be empty'],
    [7, 'x.yaml: name: must be a string, got the number 7'],
    ['payments.process', 'x.yaml: name: "payments.process" must match'],
    ['_private', 'x.yaml: name: "_private" must match'],
  ])('refuses the template name %j', (name, message) => {
    expect(errorOf({ ...base(), name })).toContain(message);
  });

  it('names the path of wrongly typed values', () => {
    expect(errorOf({ ...base(), steps: { charge_card: {} } })).toBe(
      'x.yaml: steps: must be a list of steps, got a mapping',
    );
    expect(errorOf(withStep({ handler: 'Payments::ChargeCard' }))).toBe(
      'x.yaml: steps[0].handler: must be a mapping, got the string "Payments::ChargeCard"',
    );
    expect(errorOf(withStep({ dependencies: 'notify' }))).toBe(
      'x.yaml: steps[0].dependencies: must be a list of step names, got the string "notify"',
    );
    expect(errorOf(withStep({ dependencies: [null] }))).toBe(
      'x.yaml: steps[0].dependencies[0]: must be a step name, got null',
    );
    expect(errorOf(withStep({ timeout_seconds: 1.5 }))).toBe(
      'x.yaml: steps[0].timeout_seconds: must be an integer between 1 and 86400, got the number 1.5',
    );
    expect(errorOf(withStep({ retry: { backoff_base_ms: -1 } }))).toBe(
      'x.yaml: steps[0].retry.backoff_base_ms: must be an integer at least 0, got the number -1',
    );
    expect(errorOf(withStep({ publishes_events: { name: 'payment.charged' } }))).toBe(
      'x.yaml: steps[0].publishes_events: must be a list of event declarations, got a mapping',
    );
    expect(errorOf(withStep({ handler: { callable: 'Payments ChargeCard' } }))).toBe(
      'x.yaml: steps[0].handler.callable: "Payments ChargeCard" must not contain whitespace',
    );
  });

  it('quotes unknown keys that are not identifiers', () => {
    expect(errorOf(withStep({ 'time out': 5 }))).toBe(
      'x.yaml: steps[0]["time out"]: unknown key (allowed: name, description, handler, dependencies, depends_on, retry, timeout_seconds, publishes_events)',
    );
  });

  it('reports the first step of a cycle in file order, whatever the search found first', () => {
    const doc = base();
    doc.steps = [
      { name: 'x', handler: { callable: 'X' }, dependencies: ['b'] },
      { name: 'a', handler: { callable: 'A' }, dependencies: ['b'] },
      { name: 'b', handler: { callable: 'B' }, dependencies: ['a'] },
    ];
    expect(errorOf(doc)).toBe('x.yaml: steps[1].dependencies: dependency cycle: a -> b -> a');
  });

  it('accepts depends_on as an alias of dependencies', () => {
    const doc = base();
    doc.steps[1] = { name: 'notify', handler: { callable: 'N' }, depends_on: ['charge_card'] };
    expect(validateTemplate(doc, 'x.yaml').steps[1]?.dependencies).toEqual(['charge_card']);
  });

  it('refuses non-JSON values in handler initialization', () => {
    expect(errorOf(withStep({ handler: { callable: 'C', initialization: { when: new Date(0) } } }))).toBe(
      'x.yaml: steps[0].handler.initialization.when: must be a JSON value, got a Date value',
    );
  });

  it('applies the retry defaults key by key', () => {
    const template = validateTemplate(withStep({ retry: { backoff: 'none' } }), 'x.yaml');
    expect(template.steps[0]?.retry).toEqual({
      retryable: true,
      maxAttempts: 3,
      backoff: 'none',
      backoffBaseMs: 1000,
      maxBackoffMs: 30000,
    });
  });

  it('uses the defaultDelivery option for events without delivery', () => {
    const doc = withStep({ publishes_events: [{ name: 'payment.charged', schema: {} }] });
    const template = validateTemplate(doc, 'x.yaml', { defaultDelivery: 'acknowledged' });
    expect(template.steps[0]?.publishesEvents[0]?.delivery).toBe('acknowledged');
    expect(validateTemplate(doc, 'x.yaml').steps[0]?.publishesEvents[0]?.delivery).toBe('fire_and_forget');
  });

  it('refuses reserved event prefixes for step. too', () => {
    expect(errorOf(withStep({ publishes_events: [{ name: 'step.completed', schema: {} }] }))).toContain(
      'steps[0].publishes_events[0].name: "step.completed" uses the reserved prefix "step."',
    );
  });

  it('refuses an event schema that is not a mapping', () => {
    expect(errorOf(withStep({ publishes_events: [{ name: 'payment.charged', schema: true }] }))).toBe(
      'x.yaml: steps[0].publishes_events[0].schema: must be a mapping, got the boolean true',
    );
  });
});
