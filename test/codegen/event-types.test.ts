/**
 * The typed-events generator (src/codegen/event-types.ts) on the payments example and on
 * fixtures covering every mapped JSON Schema keyword, cross-namespace conflicts and template
 * versions: the parts of the output that matter, asserted one by one (no snapshot).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GENERATED_HEADER, generateEventTypes, pascalCase } from '../../src/codegen/event-types.js';
import { printType, schemaToType } from '../../src/codegen/schema-types.js';
import { loadTemplates } from '../../src/templates/load.js';
import type { TaskTemplate } from '../../src/templates/types.js';
import { validateTemplate } from '../../src/templates/validate.js';
import { typedPublisher } from '../../examples/payments/events.generated.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PAYMENTS = path.join(ROOT, 'examples/payments/templates');
const FIXTURES = path.join(ROOT, 'test/fixtures/codegen/templates');

async function templatesOf(...paths: string[]): Promise<readonly TaskTemplate[]> {
  return (await loadTemplates(paths)).all();
}

/** A template in namespace `ns` whose one step `emit` declares `events` (name → schema). */
function templateWith(events: Record<string, object>, namespace = 'ns'): TaskTemplate {
  return validateTemplate(
    {
      name: 'inline',
      namespace_name: namespace,
      version: '1.0.0',
      steps: [
        {
          name: 'emit',
          handler: { callable: 'Inline' },
          publishes_events: Object.entries(events).map(([name, schema]) => ({ name, schema })),
        },
      ],
    },
    'inline.yaml',
  );
}

/** The text of `export interface NAME {…}` or `export type NAME = …;` in the module. */
function declaration(text: string, name: string): string {
  const match = new RegExp(
    `^export (?:interface ${name} \\{[\\s\\S]*?^\\}|type ${name} =[\\s\\S]*?;$)`,
    'm',
  ).exec(text);
  if (!match) throw new Error(`no declaration of ${name} in:\n${text}`);
  return match[0];
}

const typeOf = (schema: unknown): string => printType(schemaToType(schema), '');

describe('generateEventTypes on the payments example', () => {
  it('writes the header, one interface per payload, the maps and the typed helpers', async () => {
    const generated = generateEventTypes(await templatesOf(PAYMENTS));
    const { text } = generated;
    expect(text.split('\n')[0]).toBe(GENERATED_HEADER);
    expect(text).toContain('//   payments/process_payment@1.0.0\n');
    expect(declaration(text, 'PaymentCharged')).toBe(
      [
        'export interface PaymentCharged {',
        '  amount: number;',
        '  currency: string;',
        '  customer_id?: string;',
        '  payment_id: string;',
        '}',
      ].join('\n'),
    );
    expect(declaration(text, 'PaymentFailed')).toBe(
      [
        'export interface PaymentFailed {',
        '  error_code: string;',
        '  error_message?: string;',
        '  payment_id: string;',
        '}',
      ].join('\n'),
    );
    // The declaration's description and where it is declared go into the type's comment.
    expect(text).toContain(
      ' * Fired when payment is successfully charged\n *\n * Declared by:\n * - payments/process_payment@1.0.0 charge_card (condition success)\n */\nexport interface PaymentCharged',
    );
    expect(declaration(text, 'EventPayloads')).toBe(
      [
        'export interface EventPayloads {',
        "  'payment.charged': PaymentCharged;",
        "  'payment.failed': PaymentFailed;",
        '}',
      ].join('\n'),
    );
    expect(declaration(text, 'StepEvents')).toBe(
      [
        'export interface StepEvents {',
        "  'payments/process_payment/charge_card': {",
        "    'payment.charged': PaymentCharged;",
        '  };',
        "  'payments/process_payment/handle_failure': {",
        "    'payment.failed': PaymentFailed;",
        '  };',
        '}',
      ].join('\n'),
    );
    expect(text).toContain('export interface NamespaceEventPayloads {\n  payments: {\n');
    expect(text).toContain(
      'export function typedPublisher<S extends StepKey>(ctx: PublishingContext, step: S)',
    );
    expect(text).toContain('export function isEvent<N extends EventName>(');
    expect(generated).toMatchObject({ payloadTypes: 2, steps: 2, conflicts: [] });
  });

  it('gives the same bytes whatever the order of the templates', async () => {
    const templates = await templatesOf(FIXTURES, PAYMENTS);
    expect(generateEventTypes([...templates].reverse()).text).toBe(generateEventTypes(templates).text);
  });

  it('matches the committed examples/payments/events.generated.ts', async () => {
    const committed = await readFile(path.join(ROOT, 'examples/payments/events.generated.ts'), 'utf8');
    expect(
      committed,
      'run: tasker codegen examples/payments/templates --out examples/payments/events.generated.ts',
    ).toBe(generateEventTypes(await templatesOf(PAYMENTS)).text);
  });

  it('its typedPublisher forwards to ctx.publishEvent, and refuses the context of another step', () => {
    const published: Array<[string, unknown]> = [];
    const ctx = (step: string) => ({
      task: { namespace: 'payments', name: 'process_payment' },
      step: { name: step },
      publishEvent: (name: string, payload: unknown) => published.push([name, payload]),
    });
    const payload = { payment_id: 'p1', amount: 5, currency: 'EUR' };
    typedPublisher(ctx('charge_card'), 'payments/process_payment/charge_card')('payment.charged', payload);
    expect(published).toEqual([['payment.charged', payload]]);
    expect(() => typedPublisher(ctx('handle_failure'), 'payments/process_payment/charge_card')).toThrow(
      "typedPublisher(ctx, 'payments/process_payment/charge_card'): this handler is running step payments/process_payment/handle_failure",
    );
  });
});

describe('generateEventTypes on the fixtures', () => {
  it('maps every supported keyword of a payload schema', async () => {
    const { text } = generateEventTypes(await templatesOf(FIXTURES));
    const described = declaration(text, 'ProductDescribed');
    for (const line of [
      '  choice?: string | number;', // oneOf
      "  'content-type'?: string;", // a property name that is not an identifier
      '  dimensions: {\n    height?: number;\n    width: number;\n  };', // nested object
      '  discontinued: boolean;',
      '  either?:\n    | {\n        a: string;\n      }\n    | {\n        b: number;\n      };', // anyOf
      "  kind: 'product';", // const
      '  labels?: Record<string, string>;', // additionalProperties schema, no properties
      '  loose?: Record<string, unknown>;', // an object without properties
      '  matched?: unknown /* unsupported JSON Schema keyword: patternProperties */;',
      '  note: string | null;', // a list of types
      '  pair?: [string, number?];', // prefixItems, items: false, minItems: 1
      "  price: {\n    amount: number;\n    currency: 'EUR' | 'USD';\n  };", // local $ref to $defs
      '  quantity: number;', // integer
      '  /** Stock keeping unit */\n  sku: string;', // description; minLength ignored
      "  status: 'active' | 'retired' | 3 | null;", // enum
      '  tags: string[];',
    ]) {
      expect(described).toContain(`\n${line}\n`);
    }
    expect(described).not.toContain('[key: string]'); // additionalProperties: false
    expect(declaration(text, 'ProductTagged')).toBe(
      'export interface ProductTagged {\n  tag: string;\n  [key: string]: unknown;\n}',
    );
    // draft-07: definitions, and a tuple as an `items` list closed by additionalItems: false.
    expect(declaration(text, 'ProductImported')).toBe(
      "export interface ProductImported {\n  row: [number, string];\n  source: 'csv' | 'api';\n}",
    );
    expect(declaration(text, 'ProductCounted')).toBe('export type ProductCounted = number;');
  });

  it('types a name with different schemas per namespace and leaves it out of EventPayloads', async () => {
    const generated = generateEventTypes(await templatesOf(FIXTURES));
    const { text } = generated;
    expect(generated.conflicts).toEqual(['invoice.sent']);
    expect(declaration(text, 'BillingInvoiceSent')).toBe(
      'export interface BillingInvoiceSent {\n  invoice_id: string;\n}',
    );
    expect(declaration(text, 'ShippingInvoiceSent')).toBe(
      'export interface ShippingInvoiceSent {\n  parcel_id: number;\n}',
    );
    const global = declaration(text, 'EventPayloads');
    expect(global).not.toContain('invoice.sent');
    expect(global).toContain("  'invoice.voided': InvoiceVoided;");
    expect(text).toContain(
      'Left out, declared with different schemas in different namespaces: invoice.sent;',
    );
    const namespaces = declaration(text, 'NamespaceEventPayloads');
    expect(namespaces).toContain("  billing: {\n    'invoice.sent': BillingInvoiceSent;\n");
    expect(namespaces).toContain("  shipping: {\n    'invoice.sent': ShippingInvoiceSent;\n  };");
  });

  it('lets a step publish only what every loaded version of it declares', async () => {
    const { text } = generateEventTypes(await templatesOf(FIXTURES));
    const steps = declaration(text, 'StepEvents');
    expect(steps).toContain(
      "  // invoice.voided is left out: only version 2.0.0 declares it.\n  'billing/invoice/send': {\n    'invoice.sent': BillingInvoiceSent;\n  };",
    );
    // A step that declares nothing (billing/invoice/archive) has no entry.
    expect(steps).not.toContain('archive');
    expect(steps).toContain(
      "  'shipping/dispatch/notify': {\n    'invoice.sent': ShippingInvoiceSent;\n  };",
    );
  });
});

describe('type names', () => {
  it('are the event name in PascalCase', () => {
    expect(pascalCase('payment.charged')).toBe('PaymentCharged');
    expect(pascalCase('order.line_item.added')).toBe('OrderLineItemAdded');
    expect(pascalCase('billing', 'invoice.sent')).toBe('BillingInvoiceSent');
  });

  it('never collide with each other nor with the names the module exports', () => {
    const { text } = generateEventTypes([
      templateWith({
        'a.b_c': { type: 'string' },
        'a_b.c': { type: 'number' },
        'event.payloads': { type: 'null' },
      }),
    ]);
    expect(text).toContain('export type ABC = string;');
    expect(text).toContain('export type ABCPayload = number;');
    expect(text).toContain('export type EventPayloadsPayload = null;');
    expect(text).toContain("  'a_b.c': ABCPayload;");
  });
});

describe('schemaToType', () => {
  it.each([
    [true, 'unknown'],
    [{}, 'unknown'],
    [false, 'never'],
    [{ type: 'integer' }, 'number'],
    [{ type: ['string', 'integer', 'null'] }, 'string | number | null'],
    [{ const: 'x' }, "'x'"],
    [{ const: "it's" }, "'it\\'s'"],
    [{ enum: ['a', 1, true, null] }, "'a' | 1 | true | null"],
    [{ const: { b: [1, 'x'], a: null } }, "{ a: null; b: [1, 'x'] }"],
    [{ type: 'array' }, 'unknown[]'],
    [{ type: 'array', items: { type: ['string', 'number'] } }, '(string | number)[]'],
    [{ type: 'array', prefixItems: [{ type: 'string' }] }, '[string?, ...unknown[]]'],
    [
      { type: 'array', prefixItems: [{ type: 'string' }], items: { type: 'boolean' }, minItems: 1 },
      '[string, ...boolean[]]',
    ],
    [{ type: 'object', additionalProperties: false }, 'Record<string, never>'],
    [{ allOf: [{ type: 'string' }, { minLength: 2 }] }, 'string'],
    [{ anyOf: [{ type: 'string' }, {}] }, 'unknown'],
    [{ type: 'string', format: 'email', pattern: '^.+@', not: { const: 'x' } }, 'string'],
    [{ if: { type: 'string' }, then: { minLength: 1 }, type: 'string' }, 'string'],
  ])('%j → %s', (schema, expected) => {
    expect(typeOf(schema)).toBe(expected);
  });

  it('intersects allOf members and the schema of its own', () => {
    expect(
      typeOf({
        type: 'object',
        properties: { a: { type: 'string' } },
        allOf: [
          { required: ['a'] },
          { anyOf: [{ properties: { b: { type: 'number' } } }, { type: 'null' }] },
        ],
      }),
    ).toBe('{\n  a?: string;\n} & {\n  a: unknown;\n} & ({\n  b?: number;\n} | null)');
  });

  it('puts every field type in an index signature beside the fields', () => {
    expect(
      typeOf({
        type: 'object',
        required: ['id'],
        properties: { id: { type: 'string' }, n: { type: 'integer' } },
        additionalProperties: { type: 'boolean' },
      }),
    ).toBe('{\n  id: string;\n  n?: number;\n  [key: string]: boolean | string | number | undefined;\n}');
  });

  it('turns unsupported keywords, remote and recursive references into commented unknown', () => {
    expect(typeOf({ type: 'object', dependentSchemas: {}, unevaluatedProperties: false })).toBe(
      'unknown /* unsupported JSON Schema keywords: dependentSchemas, unevaluatedProperties */',
    );
    expect(typeOf({ $ref: 'https://example.com/money.json' })).toBe(
      'unknown /* $ref https://example.com/money.json is not local to the schema */',
    );
    expect(
      typeOf({
        $defs: { node: { type: 'object', properties: { next: { $ref: '#/$defs/node' } } } },
        $ref: '#/$defs/node',
      }),
    ).toBe('{\n  next?: unknown /* recursive $ref #/$defs/node */;\n}');
    expect(typeOf({ $ref: '#/$defs/missing' })).toBe('unknown /* $ref #/$defs/missing cannot be resolved */');
  });

  it('keeps a description from closing the comment it is written in', () => {
    const { text } = generateEventTypes([
      templateWith({
        'x.y': { type: 'object', properties: { a: { type: 'string', description: 'ends */ here' } } },
      }),
    ]);
    expect(text).toContain('  /** ends *\\/ here */\n  a?: string;');
  });
});

describe('generateEventTypes without events', () => {
  it('writes empty maps', () => {
    const { text, payloadTypes, steps } = generateEventTypes([]);
    expect(text).toContain('export type EventPayloads = Record<never, never>;');
    expect(text).toContain('export type StepEvents = Record<never, never>;');
    expect(text).toContain('export type NamespaceEventPayloads = Record<never, never>;');
    expect({ payloadTypes, steps }).toEqual({ payloadTypes: 0, steps: 0 });
  });
});
