import { describe, expect, it } from 'vitest';
import { validateContext } from '../../src/templates/input-schema.js';
import { validateTemplate } from '../../src/templates/validate.js';

const steps = [{ name: 'charge', handler: { callable: 'C' } }];
const withSchema = validateTemplate(
  {
    name: 'process_payment',
    namespace_name: 'payments',
    version: '1.0.0',
    input_schema: {
      type: 'object',
      required: ['amount', 'currency'],
      additionalProperties: false,
      properties: {
        amount: { type: 'number' },
        currency: { enum: ['USD', 'EUR'] },
        email: { type: 'string', format: 'email' },
      },
    },
    steps,
  },
  'p.yaml',
);

describe('validateContext', () => {
  it('accepts a matching context', () => {
    expect(() =>
      validateContext(withSchema, { amount: 5, currency: 'USD', email: 'a@example.com' }),
    ).not.toThrow();
  });

  it('lists every finding by instance path in one line', () => {
    expect(() =>
      validateContext(withSchema, { amount: 'five', currency: 'GBP', email: 'nope', extra: 1 }),
    ).toThrow(
      expect.objectContaining({
        code: 'CONTEXT_INVALID',
        message:
          'task context does not match the input_schema of payments/process_payment@1.0.0: (root) must NOT have additional properties ("extra"); /amount must be number; /currency must be equal to one of the allowed values ("USD", "EUR"); /email must match format "email"',
      }),
    );
    expect(() => validateContext(withSchema, null)).toThrow(': (root) must be object');
    expect(() => validateContext(withSchema, {})).toThrow(
      "(root) must have required property 'amount'; (root) must have required property 'currency'",
    );
  });

  it('accepts any context when the template has no input_schema', () => {
    const free = validateTemplate(
      { name: 'free', namespace_name: 'payments', version: '1.0.0', steps },
      'f.yaml',
    );
    expect(() => validateContext(free, { anything: [1, 2, 3] })).not.toThrow();
  });
});
